// Approximate search on a proximity graph (HNSW, Malkov & Yashunin): every row is a node linked
// to its near neighbours on layer 0 and, for a geometrically thinning subset, on upper layers
// too. A query descends greedily from the top entry point and then runs a best-first beam of
// width `ef` on layer 0; its work grows like log n, not like IVF's √n. Rows are kept in add
// order (memory-mappable), links in fixed-stride Int32 lists. A quantised graph also keeps
// 8-bit codes of its rows: searches walk the codes (a quarter of the bytes a hop reads, and a
// walk is bound by memory) and score the beam's hits again on the Float32 rows, so the scores
// returned are exact and only the walk is approximate. Building is in
// GraphIndex+Build.swift, the beam itself in CKernels (graph.c).
import CKernels
import Foundation
import Neural

/// A graph index of (n, d) rows; ids are add order, as in `FlatIndex`. Searching is safe from
/// several threads at once; adding is not (and excludes searching meanwhile).
public final class GraphIndex: @unchecked Sendable {
    public let dimension: Int
    /// Links a node chooses on each of its layers (M); layer-0 lists take up to twice as many
    /// as later nodes link back.
    public let neighbors: Int
    /// Beam width while building: larger builds slower and searches better.
    public let efConstruction: Int
    /// Beam width of a search unless `search` is given another (at least k).
    public var efSearch = 64
    public var parameters = SearchParameters()

    /// Rows in add order, (count, dimension).
    public internal(set) var rows: RowStorage<Float>
    /// Set for a quantised graph: each dimension's range over every row added so far.
    public internal(set) var quantizer: ScalarQuantizer?
    /// The rows' 8-bit codes in add order when quantised, else empty.
    public internal(set) var codes: RowStorage<UInt8>
    /// Whether searches walk codes: fixed when the graph is made.
    public let isQuantized: Bool
    /// Node i's top layer.
    public internal(set) var levels: [UInt8]
    /// Layer-0 lists, `stride0` Int32 per node: a count, then the neighbour ids.
    public internal(set) var links0: RowStorage<Int32>
    /// Upper-layer lists of the nodes above layer 0, `strideUp` Int32 per layer, from `upperOffset[i]`.
    public internal(set) var upper: RowStorage<Int32>
    public internal(set) var upperOffset: [Int64]
    public internal(set) var entryPoint: Int32 = -1
    public internal(set) var seed: UInt64
    /// Search scratch kept between searches: a fresh one clears a visited stamp per node (2 MB
    /// at a million rows) before its first step, which one query at a time would pay each time.
    let spareWorkspaces = GraphWorkspacePool()

    public var count: Int { levels.count }
    var stride0: Int { 2 * neighbors + 1 }
    var strideUp: Int { neighbors + 1 }
    /// How fast the layers thin out: P(level ≥ l) = M^−l.
    var levelScale: Double { 1 / log(Double(max(2, neighbors))) }

    public init(dimension: Int, neighbors: Int = 16, efConstruction: Int = 100, seed: UInt64 = 1, quantized: Bool = false) {
        precondition(dimension > 0, "GraphIndex: dimension must be positive, got \(dimension)")
        precondition(neighbors >= 2 && neighbors <= 127, "GraphIndex: neighbours per node must be 2…127, got \(neighbors)")
        precondition(efConstruction >= neighbors, "GraphIndex: efConstruction \(efConstruction) below M \(neighbors)")
        self.dimension = dimension
        self.neighbors = neighbors
        self.efConstruction = efConstruction
        self.seed = seed
        isQuantized = quantized
        rows = RowStorage()
        codes = RowStorage()
        levels = []
        links0 = RowStorage()
        upper = RowStorage()
        upperOffset = []
    }

    /// The top layer of the graph (−1 when empty).
    public var topLevel: Int { entryPoint < 0 ? -1 : Int(levels[Int(entryPoint)]) }

    /// Bytes per row: the row itself, its layer-0 list and its share of the upper lists.
    public var bytesPerRow: Double {
        guard count > 0 else { return 0 }
        return Double(rows.count * 4 + codes.count + links0.count * 4 + upper.count * 4 + upperOffset.count * 8 + levels.count) / Double(count)
    }

    /// The k best rows of each query, best first; `ef` (≥ k) widens the beam for better recall.
    /// Queries are spread over `parameters.threads` threads.
    public func search(_ queries: Tensor, k: Int, ef: Int? = nil) -> [[SearchHit]] {
        precondition(queries.rank == 2 && queries.shape[1] == dimension,
                     "GraphIndex: queries \(queries.shape), dimension \(dimension)")
        let q = queries.shape[0]
        guard count > 0, k > 0, q > 0 else { return [[SearchHit]](repeating: [], count: q) }
        let beam = max(k, ef ?? efSearch)
        // A beam as wide as the graph visits every node it can reach; scanning them all is as
        // cheap and cannot miss one that pruned links left unreachable.
        if beam >= count { return exactIndex.search(queries, k: k) }
        var results = [[SearchHit]](repeating: [], count: q)
        let slots = max(1, min(parameters.threads, q))
        let workspaces = (0..<slots).map { _ in spareWorkspaces.take(nodes: count, capacity: beam + 2 * neighbors + 8) }
        defer { spareWorkspaces.giveBack(workspaces) }
        queries.withUnsafeBufferPointer { pq in
            results.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                withGraph(walkingCodes: quantizer != nil) { graph in
                    parallelItems(q, slots: slots) { slot, i in
                        let query = pq.baseAddress! + i * dimension
                        base[i] = workspaces[slot].withWalkQuery(quantizer, query, dimension) { walk in
                            let found = beamSearch(graph, workspaces[slot], walk, ef: beam)
                            return quantizer == nil ? Self.hits(found.prefix(k)) : rescored(found, query, k: k)
                        }
                    }
                }
            }
        }
        return results
    }

    /// Descends from the entry point to layer 1 greedily, then beams layer 0: the hits, best first.
    func beamSearch(_ graph: UnsafePointer<rk_graph>, _ workspace: GraphWorkspace, _ q: UnsafePointer<Float>,
                    ef: Int) -> ArraySlice<rk_hit> {
        var entry = entryPoint
        var entryScore = rk_graph_score(graph, q, entry)
        for layer in stride(from: topLevel, to: 0, by: -1) {
            entry = rk_graph_greedy(graph, q, entry, &entryScore, Int32(layer))
        }
        return workspace.search(graph, q, entries: [rk_hit(score: entryScore, id: entry)], ef: ef, layer: 0)
    }

    static func hits(_ found: ArraySlice<rk_hit>) -> [SearchHit] {
        found.map { SearchHit(id: Int($0.id), score: $0.score) }
    }

    /// The k best of a walk's hits scored again on their Float32 rows (ties: lower id first).
    func rescored(_ found: ArraySlice<rk_hit>, _ q: UnsafePointer<Float>, k: Int) -> [SearchHit] {
        rows.withUnsafeBufferPointer { r in
            var exact = found.map { SearchHit(id: Int($0.id), score: rk_dot(q, r.baseAddress! + Int($0.id) * dimension, dimension)) }
            exact.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            return Array(exact.prefix(k))
        }
    }

    /// The C view of the graph for `body`; while building, `locks` holds a lock word per node.
    /// `walkingCodes` points the walk at the codes (its queries must then be transformed).
    func withGraph<R>(locks: UnsafeMutablePointer<Int32>? = nil, walkingCodes: Bool = false,
                      _ body: (UnsafePointer<rk_graph>) -> R) -> R {
        rows.withUnsafeBufferPointer { r in
            codes.withUnsafeBufferPointer { c in
                links0.withUnsafeBufferPointer { l0 in
                    upper.withUnsafeBufferPointer { up in
                        upperOffset.withUnsafeBufferPointer { offsets in
                            var graph = rk_graph(rows: r.baseAddress, codes: walkingCodes ? c.baseAddress : nil, d: dimension,
                                                 links0: l0.baseAddress, stride0: stride0, upper: up.baseAddress,
                                                 upperOffset: offsets.baseAddress, strideUp: strideUp, locks: locks)
                            return body(&graph)
                        }
                    }
                }
            }
        }
    }
}

/// Workspaces that searches hand back for the next ones, safe to share between threads.
final class GraphWorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var spare: [GraphWorkspace] = []

    /// A workspace for a graph of `nodes` (a spare one if it is large enough).
    func take(nodes: Int, capacity: Int) -> GraphWorkspace {
        lock.lock()
        let found = spare.popLast()
        lock.unlock()
        if let found, found.nodes >= nodes { return found }
        return GraphWorkspace(nodes: nodes, capacity: capacity)
    }

    /// Keeps `workspaces` for later searches, up to a few (one per thread that searches at once).
    func giveBack(_ workspaces: [GraphWorkspace]) {
        lock.lock()
        spare = Array((spare + workspaces).suffix(8))
        lock.unlock()
    }
}

/// A search's scratch: visited stamps for every node and the two heaps, reused across queries.
final class GraphWorkspace {
    private var visited: [UInt16]
    var nodes: Int { visited.count }
    private var candidates: [rk_hit]
    private var results: [rk_hit]
    private var generation: UInt16 = 0
    /// The hits of a search, or an insertion's scratch.
    private var out: [rk_hit] = []
    /// A query transformed for walking codes.
    private var walkQuery: [Float] = []

    init(nodes: Int, capacity: Int) {
        visited = [UInt16](repeating: 0, count: nodes)
        candidates = [rk_hit](repeating: rk_hit(), count: capacity)
        results = [rk_hit](repeating: rk_hit(), count: capacity)
    }

    /// The beam of width `ef` at `layer` from `entries`: the hits, best first.
    func search(_ graph: UnsafePointer<rk_graph>, _ q: UnsafePointer<Float>, entries: [rk_hit], ef: Int,
                layer: Int) -> ArraySlice<rk_hit> {
        let n = withCView(ef: ef, scratch: ef) { w, out in
            entries.withUnsafeBufferPointer { e in
                rk_graph_search(graph, w, q, e.baseAddress, e.count, ef, Int32(layer), out)
            }
        }
        return out[0..<n]
    }

    /// `body` with the query a walk scores: `q` itself, or its transform when `quantizer` codes the rows.
    func withWalkQuery<R>(_ quantizer: ScalarQuantizer?, _ q: UnsafePointer<Float>, _ d: Int,
                          _ body: (UnsafePointer<Float>) -> R) -> R {
        guard let quantizer else { return body(q) }
        if walkQuery.count < d { walkQuery = [Float](repeating: 0, count: d) }
        return walkQuery.withUnsafeMutableBufferPointer { t in
            _ = quantizer.transform(query: q, into: t.baseAddress!)
            return body(t.baseAddress!)
        }
    }

    /// Links `node` into the graph `builder` grows (GraphIndex+Build.swift).
    func insert(_ node: Int32, _ graph: UnsafePointer<rk_graph>, _ builder: UnsafePointer<rk_graph_builder>) {
        let ef = builder.pointee.ef_construction
        withCView(ef: ef, scratch: rk_graph_insert_scratch(ef, builder.pointee.neighbors, graph.pointee.d)) { w, scratch in
            rk_graph_insert(graph, builder, w, scratch, node)
        }
    }

    /// The C view of this scratch, its heaps grown for a beam of `ef` and `out` to `scratch`
    /// hits; the visited stamps' generation carries over to the next call.
    private func withCView<R>(ef: Int, scratch: Int,
                              _ body: (UnsafeMutablePointer<rk_graph_workspace>, UnsafeMutablePointer<rk_hit>) -> R) -> R {
        if out.count < scratch { out = [rk_hit](repeating: rk_hit(), count: scratch) }
        if candidates.count < ef + 300 {
            candidates = [rk_hit](repeating: rk_hit(), count: ef + 300)
            results = candidates
        }
        let nodes = visited.count, capacity = candidates.count
        return visited.withUnsafeMutableBufferPointer { v in
            candidates.withUnsafeMutableBufferPointer { c in
                results.withUnsafeMutableBufferPointer { r in
                    out.withUnsafeMutableBufferPointer { o in
                        var w = rk_graph_workspace(visited: v.baseAddress, generation: generation, nodes: nodes,
                                                   candidates: c.baseAddress, results: r.baseAddress, capacity: capacity)
                        defer { generation = w.generation }
                        return body(&w, o.baseAddress!)
                    }
                }
            }
        }
    }
}
