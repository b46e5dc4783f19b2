// Exact inner-product search over all rows (FAISS IndexFlatIP), rows as Float32 or SQ8 codes.
// Many queries: (query block × row block) tiles shared out to the threads, each a one-thread
// `gemm` into a bounded score tile scanned at once into that thread's per-query heaps.
// Few queries: a SIMD scan, pieces of rows shared out to the threads from a counter.
import Neural

/// An exact index of (n, d) rows, normally L2-normalised embeddings; ids are add order.
public struct FlatIndex: Sendable {
    public let dimension: Int
    /// Float32 rows, (count, dimension) row-major; empty when the index is quantised.
    public private(set) var rows: RowStorage<Float>
    /// SQ8 codes, (count, dimension); empty unless `quantizer` is set.
    public private(set) var codes: RowStorage<UInt8>
    /// Present when rows are stored as 8-bit codes.
    public let quantizer: ScalarQuantizer?
    public var parameters = SearchParameters()

    /// An empty Float32 index.
    public init(dimension: Int) {
        precondition(dimension > 0, "FlatIndex dimension must be positive, got \(dimension)")
        self.dimension = dimension
        rows = RowStorage()
        codes = RowStorage()
        quantizer = nil
    }

    /// An empty SQ8 index with a trained quantiser.
    public init(quantizer: ScalarQuantizer) {
        dimension = quantizer.dimension
        rows = RowStorage()
        codes = RowStorage()
        self.quantizer = quantizer
    }

    /// An index over existing Float32 rows (e.g. memory-mapped from an index file), no copy.
    public init(dimension: Int, rows: RowStorage<Float>) {
        precondition(dimension > 0 && rows.count % dimension == 0,
                     "FlatIndex: \(rows.count) values are not whole rows of dimension \(dimension)")
        self.dimension = dimension
        self.rows = rows
        codes = RowStorage()
        quantizer = nil
    }

    /// An SQ8 index over existing codes (e.g. memory-mapped), no copy.
    public init(quantizer: ScalarQuantizer, codes: RowStorage<UInt8>) {
        precondition(codes.count % quantizer.dimension == 0,
                     "FlatIndex: \(codes.count) codes are not whole rows of dimension \(quantizer.dimension)")
        dimension = quantizer.dimension
        rows = RowStorage()
        self.codes = codes
        self.quantizer = quantizer
    }

    public var count: Int { (quantizer == nil ? rows.count : codes.count) / dimension }

    /// Appends the rows of an (n, dimension) tensor; their ids continue from `count`.
    public mutating func add(_ newRows: Tensor) {
        precondition(newRows.rank == 2 && newRows.shape[1] == dimension,
                     "FlatIndex.add: expected (n, \(dimension)) rows, got \(newRows.shape)")
        newRows.withUnsafeBufferPointer { add(rows: $0) }
    }

    /// Appends n·dimension Floats, row-major.
    public mutating func add(rows buffer: UnsafeBufferPointer<Float>) {
        precondition(buffer.count % dimension == 0,
                     "FlatIndex.add: \(buffer.count) values are not whole rows of dimension \(dimension)")
        if let quantizer {
            guard let base = buffer.baseAddress else { return }
            codes.append(contentsOf: quantizer.encode(base, count: buffer.count / dimension))
        } else {
            rows.append(contentsOf: buffer)
        }
    }

    /// Removes every row.
    public mutating func reset() {
        rows.removeAll()
        codes.removeAll()
    }

    /// The k best rows by inner product for each row of a (q, dimension) query tensor, best
    /// first; fewer than k when the index holds fewer rows.
    public func search(_ queries: Tensor, k: Int) -> [[SearchHit]] {
        precondition(queries.rank == 2 && queries.shape[1] == dimension,
                     "FlatIndex.search: expected (q, \(dimension)) queries, got \(queries.shape)")
        precondition(k >= 0, "FlatIndex.search: k must be ≥ 0, got \(k)")
        let q = queries.shape[0]
        let heaps = queries.withUnsafeBufferPointer { searchHeaps($0.baseAddress!, count: q, k: k) }
        return heaps.map { $0.sorted() }
    }

    /// Heaps of the k best rows for `count` queries at `queries` (row-major, dimension wide).
    func searchHeaps(_ queries: UnsafePointer<Float>, count q: Int, k: Int) -> [TopKHeap] {
        let kk = min(k, count)
        if q == 0 { return [] }
        if kk == 0 || count == 0 { return [TopKHeap](repeating: TopKHeap(capacity: 0), count: q) }
        if q < parameters.smallQueryLimit { return scanSearch(queries, count: q, k: kk) }
        return gemmSearch(queries, count: q, k: kk)
    }

    /// Runs `body` with the row source (Float rows or codes) for the whole index.
    private func withSource<R>(_ body: (RowSource) -> R) -> R {
        if quantizer != nil {
            return codes.withUnsafeBufferPointer { body(.codes($0.baseAddress!)) }
        }
        return rows.withUnsafeBufferPointer { body(.float($0.baseAddress!)) }
    }

    /// Few queries: threads take pieces of rows from a shared counter, each into its own heaps.
    private func scanSearch(_ queries: UnsafePointer<Float>, count q: Int, k: Int) -> [TopKHeap] {
        let d = dimension, n = count, p = parameters
        // SQ8: per-query transformed vectors and offsets.
        var transformed = [Float](repeating: 0, count: q * d)
        var biases = [Float](repeating: 0, count: q)
        if let quantizer {
            transformed.withUnsafeMutableBufferPointer { t in
                for i in 0..<q { biases[i] = quantizer.transform(query: queries + i * d, into: t.baseAddress! + i * d) }
            }
        }
        let threads = max(1, min(p.threads, n / 2048 + 1))  // ≥ 2048 rows: worth a second thread
        var perThread = [[TopKHeap]](repeating: [TopKHeap](repeating: TopKHeap(capacity: k), count: q), count: threads)
        withSource { source in
            transformed.withUnsafeBufferPointer { tq in
                perThread.withUnsafeMutableBufferPointer { heaps in
                    let queryBase = quantizer == nil ? queries : tq.baseAddress!
                    // Pieces of 32 chunks (16k rows) taken from a shared counter: a late thread finds less left.
                    let piece = 32 * p.scanChunk
                    let pieces = (n + piece - 1) / piece
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: p.scanChunk * threads)
                    defer { scratch.deallocate() }
                    parallelItems(pieces, slots: threads) { t, item in
                        let buf = scratch + t * p.scanChunk
                        var start = item * piece
                        let end = min(n, start + piece)
                        while start < end {
                            let m = min(p.scanChunk, end - start)
                            for i in 0..<q {
                                scoreRows(source, start: start, count: m, dimension: d,
                                          query: queryBase + i * d, bias: biases[i], out: buf)
                                scanScores(buf, count: m, firstID: start, into: &heaps[t][i])
                            }
                            start += m
                        }
                    }
                }
            }
        }
        return TopKHeap.merged(perThread)
    }

    /// Many queries: tiles of (row block × query block) taken from a shared counter by the
    /// threads; each runs a one-thread `gemm` into its own score tile and scans it into its own
    /// heaps while the tile is in cache (no OpenBLAS pool spinning between GEMM and scan).
    private func gemmSearch(_ queries: UnsafePointer<Float>, count q: Int, k: Int) -> [TopKHeap] {
        let d = dimension, n = count, p = parameters
        let qb = max(1, min(p.queryBlock, q)), rb = max(1, min(p.rowBlock, n))
        let rowBlocks = (n + rb - 1) / rb, queryBlocks = (q + qb - 1) / qb
        let tiles = rowBlocks * queryBlocks
        let workers = max(1, min(p.threads, tiles))
        var perThread = [[TopKHeap]](repeating: [TopKHeap](repeating: TopKHeap(capacity: k), count: q), count: workers)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * qb * rb)
        defer { scratch.deallocate() }
        let decoded = UnsafeMutablePointer<Float>.allocate(capacity: quantizer == nil ? 1 : workers * rb * d)
        defer { decoded.deallocate() }
        withSource { source in
            perThread.withUnsafeMutableBufferPointer { heaps in
                parallelItems(tiles, slots: workers) { w, tile in
                    let rowStart = (tile / queryBlocks) * rb, queryStart = (tile % queryBlocks) * qb
                    let rn = min(rb, n - rowStart), qn = min(qb, q - queryStart)
                    let block: UnsafePointer<Float>
                    switch source {
                    case .float(let base):
                        block = base + rowStart * d
                    case .codes(let base):
                        let dec = decoded + w * rb * d
                        quantizer!.decode(base + rowStart * d, count: rn, into: dec)
                        block = UnsafePointer(dec)
                    }
                    let sc = scratch + w * qb * rb
                    gemm(.none, .transposed, m: qn, n: rn, k: d, a: queries + queryStart * d, lda: d,
                         b: block, ldb: d, c: sc, ldc: rn, parallel: workers == 1)
                    for i in 0..<qn {
                        scanScores(sc + i * rn, count: rn, firstID: rowStart, into: &heaps[w][queryStart + i])
                    }
                }
            }
        }
        return TopKHeap.merged(perThread)
    }
}
