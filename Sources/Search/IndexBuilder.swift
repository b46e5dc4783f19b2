// Turns an (n, d) matrix of embeddings into searchable storage: exact flat rows below a size
// threshold, a proximity graph above it (inverted lists, k-means centres with optional SQ8
// codes, when asked or when the rows are quantised). An update adds new rows to the previous
// graph when the old rows are unchanged at its front, and may reuse the previous IVF centres
// while the collection has not grown or shrunk by more than 2×.
import Foundation
import Neural
import VectorIndex

/// How rows become an index.
public struct IndexBuildOptions: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Flat below `exactThreshold` rows, approximate at or above it.
        case automatic
        /// Always flat (exact).
        case exact
        /// Always approximate: a graph, or IVF when the rows are quantised.
        case approximate
        /// Always IVF (inverted lists).
        case ivf
    }

    /// The storage a build makes.
    public enum Kind: Sendable {
        case flat, ivf, graph
    }

    public var mode = Mode.automatic
    /// Rows below which exact search is fast enough (50k rows × 128 floats scan in ~3 ms).
    public var exactThreshold = 50_000
    /// Store rows as 8-bit codes (4× smaller, recall@10 ≈ 0.99 on unit vectors).
    public var scalarQuantized = false
    /// Lists; default about 4·√n.
    public var listCount: Int? = nil
    /// Graph links per node (M) and build beam: at 1M × 256 clustered rows these reach
    /// recall@10 0.95 with a search beam of about 64 (docs/search.md has the measurements).
    public var graphNeighbors = 16
    public var graphEfConstruction = 100
    /// The graph walks 8-bit codes of its rows and re-scores its hits on them: at 200k × 256,
    /// the same recall at 1.8× the queries/s and a 30% faster build, for 256 bytes more a row.
    public var graphQuantized = true
    public var seed: UInt64 = 1

    public init() {}

    /// The storage `rows` rows get.
    public func kind(rows: Int) -> Kind {
        let approximate = scalarQuantized ? Kind.ivf : .graph
        switch mode {
        case .automatic: return rows >= exactThreshold ? approximate : .flat
        case .exact: return .flat
        case .approximate: return rows > 0 ? approximate : .flat
        case .ivf: return rows > 0 ? .ivf : .flat
        }
    }
}

public enum IndexBuilder {
    /// Storage for `rows` (n, d); `previous` offers a graph to extend when its rows are the first
    /// rows of `rows`, or centres to reuse when it is an IVF index of a similar size. Flat Float32
    /// storage takes the array without copying it.
    public static func build(rows: Tensor, dimension d: Int, options: IndexBuildOptions,
                             previous: IndexStorage? = nil) -> IndexStorage {
        precondition(rows.rank == 2 && rows.shape[1] == d, "IndexBuilder: rows \(rows.shape), d \(d)")
        let n = rows.shape[0]
        let kind = options.kind(rows: n)
        if kind == .graph { return .graph(graph(rows: rows, options: options, previous: previous)) }
        if kind == .flat {
            if options.scalarQuantized && n > 0 {
                var flat = FlatIndex(quantizer: ScalarQuantizer(training: rows))
                flat.add(rows)
                return .flat(flat)
            }
            return .flat(FlatIndex(dimension: d, rows: RowStorage(rows.data)))
        }
        var index: IVFIndex
        if case .ivf(let old) = previous, old.dimension == d, (old.quantizer != nil) == options.scalarQuantized,
           options.listCount == nil || options.listCount == old.listCount,
           Double(old.listCount) <= 2 * Double(IVFIndex.defaultListCount(rows: n)),
           2 * Double(old.listCount) >= Double(IVFIndex.defaultListCount(rows: n)) {
            index = IVFIndex(centroids: old.centroids, quantizer: options.scalarQuantized ? ScalarQuantizer(training: rows) : nil)
        } else {
            var rng = SeededGenerator(seed: options.seed)
            index = IVFIndex.train(rows, listCount: options.listCount.map { min($0, n) },
                                   scalarQuantized: options.scalarQuantized, using: &rng).index
        }
        index.add(rows)
        return .ivf(index)
    }

    /// A graph of `rows`: the previous one with the new rows added when its rows are exactly
    /// the first ones (same links and build beam), else a new one.
    static func graph(rows: Tensor, options: IndexBuildOptions, previous: IndexStorage?) -> GraphIndex {
        let n = rows.shape[0], d = rows.shape[1]
        if case .graph(let old) = previous, old.dimension == d, old.count <= n,
           old.neighbors == options.graphNeighbors, old.efConstruction == options.graphEfConstruction,
           old.isQuantized == options.graphQuantized,
           rows.withUnsafeBufferPointer({ new in
               old.rows.withUnsafeBufferPointer { o in o.count == 0 || memcmp(o.baseAddress!, new.baseAddress!, o.count * 4) == 0 }
           }) {
            let graph = old.copy()
            rows.withUnsafeBufferPointer { graph.add(rowsFrom: UnsafeBufferPointer(rebasing: $0[(old.count * d)...])) }
            return graph
        }
        let graph = GraphIndex(dimension: d, neighbors: options.graphNeighbors,
                               efConstruction: options.graphEfConstruction, seed: options.seed,
                               quantized: options.graphQuantized)
        graph.add(rows)
        return graph
    }

    /// Every row in id order as Float32 (SQ8 codes decoded), (n, d).
    public static func allRows(of storage: IndexStorage) -> Tensor {
        let n = storage.count, d = storage.dimension
        var out = [Float](repeating: 0, count: n * d)
        out.withUnsafeMutableBufferPointer { o in
            switch storage {
            case .flat(let f):
                if let q = f.quantizer {
                    f.codes.withUnsafeBufferPointer { if n > 0 { q.decode($0.baseAddress!, count: n, into: o.baseAddress!) } }
                } else {
                    f.rows.withUnsafeBufferPointer { if n > 0 { o.baseAddress!.update(from: $0.baseAddress!, count: n * d) } }
                }
            case .graph(let g):
                g.rows.withUnsafeBufferPointer { if n > 0 { o.baseAddress!.update(from: $0.baseAddress!, count: n * d) } }
            case .ivf(let ivf):
                ivf.listIDs.withUnsafeBufferPointer { ids in
                    for (position, id) in ids.enumerated() {
                        copyRow(ivf, position: position, into: o.baseAddress! + Int(id) * d)
                    }
                }
            }
        }
        return Tensor(shape: [n, d], data: out)
    }

    /// The rows with the given ids, (ids.count, d), Float32 (decoded when quantised).
    public static func rows(_ ids: [Int], of storage: IndexStorage) -> Tensor {
        let d = storage.dimension
        var out = [Float](repeating: 0, count: ids.count * d)
        out.withUnsafeMutableBufferPointer { o in
            switch storage {
            case .flat(let f):
                for (i, id) in ids.enumerated() {
                    if let q = f.quantizer {
                        f.codes.withUnsafeBufferPointer { q.decode($0.baseAddress! + id * d, count: 1, into: o.baseAddress! + i * d) }
                    } else {
                        f.rows.withUnsafeBufferPointer { (o.baseAddress! + i * d).update(from: $0.baseAddress! + id * d, count: d) }
                    }
                }
            case .graph(let g):
                g.rows.withUnsafeBufferPointer {
                    for (i, id) in ids.enumerated() { (o.baseAddress! + i * d).update(from: $0.baseAddress! + id * d, count: d) }
                }
            case .ivf(let ivf):
                var wanted: [Int64: [Int]] = [:]
                for (i, id) in ids.enumerated() { wanted[Int64(id), default: []].append(i) }
                ivf.listIDs.withUnsafeBufferPointer { all in
                    for (position, id) in all.enumerated() {
                        guard let slots = wanted[id] else { continue }
                        for slot in slots { copyRow(ivf, position: position, into: o.baseAddress! + slot * d) }
                    }
                }
            }
        }
        return Tensor(shape: [ids.count, d], data: out)
    }

    private static func copyRow(_ ivf: IVFIndex, position: Int, into out: UnsafeMutablePointer<Float>) {
        let d = ivf.dimension
        if let q = ivf.quantizer {
            ivf.listCodes.withUnsafeBufferPointer { q.decode($0.baseAddress! + position * d, count: 1, into: out) }
        } else {
            ivf.listRows.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + position * d, count: d) }
        }
    }
}
