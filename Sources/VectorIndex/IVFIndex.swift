// Approximate search by inverted lists (FAISS IndexIVFFlat / IVFScalarQuantizer): a k-means
// coarse quantiser (a FlatIndex over centroids) picks `nprobe` lists per query, and only their
// rows are scored. Rows are stored contiguous in list order, ids beside them. Few queries scan
// lists with SIMD on all threads; many queries go list by list (IVFSearcher).
import Neural

/// An inverted-file index of (n, d) rows; ids are add order, as in `FlatIndex`.
public struct IVFIndex: Sendable {
    public let dimension: Int
    /// The coarse centres, (listCount, dimension).
    public let centroids: Tensor
    /// Present when list rows are stored as 8-bit codes.
    public let quantizer: ScalarQuantizer?
    private var coarse: FlatIndex
    /// List l holds positions listOffsets[l]..<listOffsets[l+1] of `listIDs` and the row storage.
    public private(set) var listOffsets: [Int]
    /// The id of each stored row, in list order.
    public private(set) var listIDs: RowStorage<Int64>
    /// Float rows in list order, (count, dimension); empty when quantised.
    public private(set) var listRows: RowStorage<Float>
    /// SQ8 codes in list order, (count, dimension); empty unless quantised.
    public private(set) var listCodes: RowStorage<UInt8>
    /// Lists scanned per query unless `search` is given another value.
    public var nprobe = 16
    public var parameters = SearchParameters() {
        didSet { coarse.parameters = parameters }
    }

    /// An empty index over trained centres (and a trained quantiser for SQ8 lists).
    public init(centroids: Tensor, quantizer: ScalarQuantizer? = nil) {
        precondition(centroids.rank == 2 && centroids.shape[0] > 0 && centroids.shape[1] > 0,
                     "IVFIndex needs (lists, d) centroids, got \(centroids.shape)")
        precondition(quantizer == nil || quantizer!.dimension == centroids.shape[1],
                     "IVFIndex: quantiser dimension \(quantizer!.dimension) ≠ centroid dimension \(centroids.shape[1])")
        dimension = centroids.shape[1]
        self.centroids = centroids
        self.quantizer = quantizer
        coarse = FlatIndex(dimension: dimension)
        coarse.add(centroids)
        listOffsets = [Int](repeating: 0, count: centroids.shape[0] + 1)
        listIDs = RowStorage()
        listRows = RowStorage()
        listCodes = RowStorage()
    }

    /// Restores a filled index (e.g. with storage memory-mapped from an index file), no copy.
    public init(centroids: Tensor, quantizer: ScalarQuantizer?, listOffsets: [Int], listIDs: RowStorage<Int64>,
                listRows: RowStorage<Float>, listCodes: RowStorage<UInt8>) {
        self.init(centroids: centroids, quantizer: quantizer)
        let n = listOffsets.last ?? -1
        precondition(listOffsets.count == centroids.shape[0] + 1 && listOffsets.first == 0 && listIDs.count == n
                     && (quantizer == nil ? listRows.count : listCodes.count) == n * dimension,
                     "IVFIndex: \(listOffsets.count) offsets (last \(n)) for \(centroids.shape[0]) lists, "
                     + "\(listIDs.count) ids, \(listRows.count) floats, \(listCodes.count) codes, d=\(dimension)")
        self.listOffsets = listOffsets
        self.listIDs = listIDs
        self.listRows = listRows
        self.listCodes = listCodes
    }

    /// FAISS's rule of thumb: about 4·√n lists.
    public static func defaultListCount(rows n: Int) -> Int { max(1, Int((4 * Double(n).squareRoot()).rounded())) }

    /// Trains centres by k-means on (a sample of) `rows`, and SQ8 ranges when `scalarQuantized`;
    /// returns an empty index (call `add`) and the k-means result (inertia per iteration).
    public static func train(_ rows: Tensor, listCount: Int? = nil, kmeans: KMeans? = nil,
                             scalarQuantized: Bool = false,
                             using rng: inout SeededGenerator) -> (index: IVFIndex, kmeans: KMeans.Result) {
        precondition(rows.rank == 2 && rows.shape[0] > 0, "IVFIndex.train needs (n, d) rows, got \(rows.shape)")
        let n = rows.shape[0], d = rows.shape[1]
        var km = kmeans ?? KMeans(clusters: min(n, listCount ?? defaultListCount(rows: n)))
        if let listCount { km.clusters = listCount }
        let result = rows.withUnsafeBufferPointer { km.train($0.baseAddress!, count: n, dimension: d, using: &rng) }
        let sq = scalarQuantized ? ScalarQuantizer(training: rows) : nil
        return (IVFIndex(centroids: result.centroids, quantizer: sq), result)
    }

    public var listCount: Int { centroids.shape[0] }
    public var count: Int { listOffsets[listCount] }

    /// The number of rows in list l.
    public func listSize(_ l: Int) -> Int { listOffsets[l + 1] - listOffsets[l] }

    /// Removes every row, keeping the centres.
    public mutating func reset() {
        listOffsets = [Int](repeating: 0, count: listCount + 1)
        listIDs.removeAll(); listRows.removeAll(); listCodes.removeAll()
    }

    /// Assigns each row of an (n, dimension) tensor to its nearest centre and stores it there;
    /// ids continue from `count`. Rebuilds the list-ordered storage (one copy of the old rows).
    public mutating func add(_ rows: Tensor) {
        precondition(rows.rank == 2 && rows.shape[1] == dimension,
                     "IVFIndex.add: expected (n, \(dimension)) rows, got \(rows.shape)")
        let n = rows.shape[0], d = dimension, old = count, lists = listCount
        if n == 0 { return }
        var assignment = [Int32](repeating: 0, count: n)
        var best = [Float](repeating: 0, count: n)
        var km = KMeans(clusters: lists)
        km.threads = parameters.threads
        rows.withUnsafeBufferPointer {
            km.assign($0.baseAddress!, count: n, dimension: d, centroids: centroids.data,
                      assignment: &assignment, bestScore: &best)
        }
        var offsets = [Int](repeating: 0, count: lists + 1)
        for l in 0..<lists { offsets[l + 1] = listSize(l) }
        for a in assignment { offsets[Int(a) + 1] += 1 }
        for l in 0..<lists { offsets[l + 1] += offsets[l] }
        // Where the next new row of each list goes: after that list's old rows.
        var cursor = (0..<lists).map { offsets[$0] + listSize($0) }
        var ids = [Int64](repeating: 0, count: old + n)
        let newCodes = quantizer.map { q in rows.withUnsafeBufferPointer { q.encode($0.baseAddress!, count: n) } }
        listIDs.withUnsafeBufferPointer { oldIDs in
            for l in 0..<lists where listSize(l) > 0 {
                for i in 0..<listSize(l) { ids[offsets[l] + i] = oldIDs[listOffsets[l] + i] }
            }
        }
        var order = [Int](repeating: 0, count: n)  // destination position of new row i
        for i in 0..<n {
            let l = Int(assignment[i])
            order[i] = cursor[l]
            ids[cursor[l]] = Int64(old + i)
            cursor[l] += 1
        }
        if let newCodes {
            listCodes = RowStorage(Self.merged(listCodes, newCodes, d: d, oldOffsets: listOffsets, newOffsets: offsets, order: order))
        } else {
            listRows = RowStorage(Self.merged(listRows, rows.data, d: d, oldOffsets: listOffsets, newOffsets: offsets, order: order))
        }
        listIDs = RowStorage(ids)
        listOffsets = offsets
    }

    /// Old list-ordered rows moved to their new offsets, new rows placed at `order`.
    private static func merged<E: BitwiseCopyable & Numeric>(_ oldStorage: RowStorage<E>, _ new: [E], d: Int,
                                                         oldOffsets: [Int], newOffsets: [Int], order: [Int]) -> [E] {
        var out = [E](repeating: 0, count: (newOffsets.last ?? 0) * d)
        out.withUnsafeMutableBufferPointer { o in
            oldStorage.withUnsafeBufferPointer { src in
                for l in 0..<(oldOffsets.count - 1) {
                    let size = oldOffsets[l + 1] - oldOffsets[l]
                    if size > 0 {
                        (o.baseAddress! + newOffsets[l] * d).update(from: src.baseAddress! + oldOffsets[l] * d, count: size * d)
                    }
                }
            }
            new.withUnsafeBufferPointer { src in
                for (i, pos) in order.enumerated() { (o.baseAddress! + pos * d).update(from: src.baseAddress! + i * d, count: d) }
            }
        }
        return out
    }

    /// The k best rows among the `nprobe` lists nearest each query, best first.
    public func search(_ queries: Tensor, k: Int, nprobe: Int? = nil) -> [[SearchHit]] {
        precondition(queries.rank == 2 && queries.shape[1] == dimension,
                     "IVFIndex.search: expected (q, \(dimension)) queries, got \(queries.shape)")
        precondition(k >= 0, "IVFIndex.search: k must be ≥ 0, got \(k)")
        let probes = max(1, min(nprobe ?? self.nprobe, listCount))
        let q = queries.shape[0]
        if q == 0 { return [] }
        if k == 0 || count == 0 { return [[SearchHit]](repeating: [], count: q) }
        let heaps: [TopKHeap] = queries.withUnsafeBufferPointer { qp in
            let lists = coarse.searchHeaps(qp.baseAddress!, count: q, k: probes).map { $0.sorted().map(\.id) }
            let searcher = IVFSearcher(index: self, k: min(k, count))
            return q < parameters.smallQueryLimit
                ? searcher.scanEach(qp.baseAddress!, lists: lists)
                : searcher.listMajor(qp.baseAddress!, lists: lists)
        }
        return heaps.map { $0.sorted() }
    }
}
