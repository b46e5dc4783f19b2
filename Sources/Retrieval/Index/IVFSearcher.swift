// The two scan strategies of IVFIndex once each query's lists are known: few queries scan their
// lists with SIMD dot products, lists shared over threads; many queries go list by list, the
// queries probing a list gathered into one block and scored against it with one `gemm`.
import Neural

struct IVFSearcher {
    let index: IVFIndex
    let k: Int

    private var d: Int { index.dimension }
    private var p: SearchParameters { index.parameters }

    /// Runs `body` with the list-ordered rows (Float or codes) and ids.
    private func withStorage<R>(_ body: (RowSource, UnsafePointer<Int64>) -> R) -> R {
        index.listIDs.withUnsafeBufferPointer { ids in
            if index.quantizer != nil {
                return index.listCodes.withUnsafeBufferPointer { body(.codes($0.baseAddress!), ids.baseAddress!) }
            }
            return index.listRows.withUnsafeBufferPointer { body(.float($0.baseAddress!), ids.baseAddress!) }
        }
    }

    /// One query at a time: its lists dealt round-robin to threads, each with its own heap.
    func scanEach(_ queries: UnsafePointer<Float>, lists: [[Int]]) -> [TopKHeap] {
        var results: [TopKHeap] = []
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { transformed.deallocate() }
        withStorage { source, ids in
            for (qi, probes) in lists.enumerated() {
                var query = queries + qi * d
                var bias: Float = 0
                if let quantizer = index.quantizer {
                    bias = quantizer.transform(query: query, into: transformed)
                    query = UnsafePointer(transformed)
                }
                let work = probes.reduce(0) { $0 + index.listSize($1) }
                let threads = max(1, min(p.threads, work / 2048 + 1))
                var heaps = [TopKHeap](repeating: TopKHeap(capacity: k), count: threads)
                heaps.withUnsafeMutableBufferPointer { hp in
                    parallelFor(threads) { t in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: p.scanChunk) { buf in
                            for (n, l) in probes.enumerated() where n % threads == t {
                                var start = index.listOffsets[l]
                                let end = index.listOffsets[l + 1]
                                while start < end {
                                    let m = min(p.scanChunk, end - start)
                                    scoreRows(source, start: start, count: m, dimension: d, query: query, bias: bias,
                                              out: buf.baseAddress!)
                                    scanScores(buf.baseAddress!, count: m, ids: ids + start, into: &hp[t])
                                    start += m
                                }
                            }
                        }
                    }
                }
                for t in 1..<threads { heaps[0].merge(heaps[t]) }
                results.append(heaps[0])
            }
        }
        return results
    }

    /// Many queries: for each list, the queries probing it × its rows in one `gemm`, lists split
    /// over threads by work (queries × rows), per-thread heaps merged at the end.
    func listMajor(_ queries: UnsafePointer<Float>, lists: [[Int]]) -> [TopKHeap] {
        let q = lists.count, nl = index.listCount
        // Queries per list, as a CSR table.
        var start = [Int](repeating: 0, count: nl + 1)
        for probes in lists { for l in probes { start[l + 1] += 1 } }
        for l in 0..<nl { start[l + 1] += start[l] }
        var fill = start
        var members = [Int32](repeating: 0, count: start[nl])
        for (qi, probes) in lists.enumerated() { for l in probes { members[fill[l]] = Int32(qi); fill[l] += 1 } }
        // Contiguous list ranges of near-equal work per thread.
        let work = (0..<nl).map { (start[$0 + 1] - start[$0]) * index.listSize($0) }
        let total = work.reduce(0, +)
        let threads = max(1, min(p.threads, total / 100_000 + 1))
        var bounds = [0]
        var acc = 0
        for l in 0..<nl {
            acc += work[l]
            if bounds.count < threads && acc * threads >= total * bounds.count { bounds.append(l + 1) }
        }
        while bounds.count <= threads { bounds.append(nl) }
        bounds[threads] = nl
        let maxRows = max(1, min(p.rowBlock, (0..<nl).map { index.listSize($0) }.max() ?? 1))
        let maxQueries = max(1, min(p.queryBlock, (0..<nl).map { start[$0 + 1] - start[$0] }.max() ?? 1))
        var perThread = [[TopKHeap]](repeating: [TopKHeap](repeating: TopKHeap(capacity: k), count: q), count: threads)
        withStorage { source, ids in
            members.withUnsafeBufferPointer { mem in
                perThread.withUnsafeMutableBufferPointer { heaps in
                    parallelFor(threads) { t in
                        var gathered = [Float](repeating: 0, count: maxQueries * d)
                        var scores = [Float](repeating: 0, count: maxQueries * maxRows)
                        let decoded = UnsafeMutablePointer<Float>.allocate(capacity: index.quantizer == nil ? 1 : maxRows * d)
                        defer { decoded.deallocate() }
                        for l in bounds[t]..<bounds[t + 1] where start[l + 1] > start[l] && index.listSize(l) > 0 {
                            var r0 = index.listOffsets[l]
                            while r0 < index.listOffsets[l + 1] {
                                let rn = min(maxRows, index.listOffsets[l + 1] - r0)
                                let block: UnsafePointer<Float>
                                switch source {
                                case .float(let base): block = base + r0 * d
                                case .codes(let base):
                                    index.quantizer!.decode(base + r0 * d, count: rn, into: decoded)
                                    block = UnsafePointer(decoded)
                                }
                                var m0 = start[l]
                                while m0 < start[l + 1] {
                                    let mn = min(maxQueries, start[l + 1] - m0)
                                    gathered.withUnsafeMutableBufferPointer { g in
                                        for i in 0..<mn {
                                            (g.baseAddress! + i * d).update(from: queries + Int(mem[m0 + i]) * d, count: d)
                                        }
                                    }
                                    gathered.withUnsafeBufferPointer { g in
                                        scores.withUnsafeMutableBufferPointer { sc in
                                            gemm(.none, .transposed, m: mn, n: rn, k: d, a: g.baseAddress!, lda: d,
                                                 b: block, ldb: d, c: sc.baseAddress!, ldc: rn)
                                            for i in 0..<mn {
                                                scanScores(sc.baseAddress! + i * rn, count: rn, ids: ids + r0,
                                                           into: &heaps[t][Int(mem[m0 + i])])
                                            }
                                        }
                                    }
                                    m0 += mn
                                }
                                r0 += rn
                            }
                        }
                    }
                }
            }
        }
        var merged = perThread[0]
        for t in 1..<threads { for i in 0..<q { merged[i].merge(perThread[t][i]) } }
        return merged
    }
}
