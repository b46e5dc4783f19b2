// The two scan strategies of IVFIndex once each query's lists are known: few queries scan their
// lists with SIMD dot products, lists shared over threads; many queries go list by list, so
// each list is read from memory once per batch and scored from cache by every query probing it.

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

    /// One query at a time: its lists taken one by one from a shared counter by the threads,
    /// each with its own heap, so a thread the scheduler starts late never holds the query up.
    func scanEach(_ queries: UnsafePointer<Float>, lists: [[Int]]) -> [TopKHeap] {
        var results: [TopKHeap] = []
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { transformed.deallocate() }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: p.scanChunk * max(1, p.threads))
        defer { scratch.deallocate() }
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
                    parallelItems(probes.count, slots: threads) { t, n in
                        let l = probes[n], buf = scratch + t * p.scanChunk
                        var start = index.listOffsets[l]
                        let end = index.listOffsets[l + 1]
                        while start < end {
                            let m = min(p.scanChunk, end - start)
                            scoreRows(source, start: start, count: m, dimension: d, query: query, bias: bias, out: buf)
                            scanScores(buf, count: m, ids: ids + start, into: &hp[t])
                            start += m
                        }
                    }
                }
                for t in 1..<threads { heaps[0].merge(heaps[t]) }
                results.append(heaps[0])
            }
        }
        return results
    }

    /// Many queries: list by list, each list read from memory once and scored (SIMD, from
    /// cache) against every query probing it; lists split over threads by work (queries ×
    /// rows), per-thread heaps merged at the end. Per-list products are too small for `gemm`
    /// to pay off (≈16 queries × 250 rows at 1M rows, nprobe 64), so none is called here.
    func listMajor(_ queries: UnsafePointer<Float>, lists: [[Int]]) -> [TopKHeap] {
        let q = lists.count, nl = index.listCount
        // Queries per list, as a CSR table.
        var start = [Int](repeating: 0, count: nl + 1)
        for probes in lists { for l in probes { start[l + 1] += 1 } }
        for l in 0..<nl { start[l + 1] += start[l] }
        var fill = start
        var members = [Int32](repeating: 0, count: start[nl])
        for (qi, probes) in lists.enumerated() { for l in probes { members[fill[l]] = Int32(qi); fill[l] += 1 } }
        // SQ8: every query transformed once.
        var transformed = [Float](repeating: 0, count: index.quantizer == nil ? 0 : q * d)
        var biases = [Float](repeating: 0, count: q)
        if let quantizer = index.quantizer {
            transformed.withUnsafeMutableBufferPointer { t in
                for i in 0..<q { biases[i] = quantizer.transform(query: queries + i * d, into: t.baseAddress! + i * d) }
            }
        }
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
        var perThread = [[TopKHeap]](repeating: [TopKHeap](repeating: TopKHeap(capacity: k), count: q), count: threads)
        withStorage { source, ids in
            members.withUnsafeBufferPointer { mem in
                transformed.withUnsafeBufferPointer { tq in
                    perThread.withUnsafeMutableBufferPointer { heaps in
                        let queryBase = index.quantizer == nil ? queries : tq.baseAddress!
                        parallelFor(threads) { t in
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: p.scanChunk) { buf in
                                for l in bounds[t]..<bounds[t + 1] {
                                    var r0 = index.listOffsets[l]
                                    let end = index.listOffsets[l + 1]
                                    // Chunks of the list stay in cache while every member query scores them.
                                    while r0 < end {
                                        let rn = min(p.scanChunk, end - r0)
                                        for m in start[l]..<start[l + 1] {
                                            let qi = Int(mem[m])
                                            scoreRows(source, start: r0, count: rn, dimension: d, query: queryBase + qi * d,
                                                      bias: biases[qi], out: buf.baseAddress!)
                                            scanScores(buf.baseAddress!, count: rn, ids: ids + r0, into: &heaps[t][qi])
                                        }
                                        r0 += rn
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return TopKHeap.merged(perThread)
    }
}
