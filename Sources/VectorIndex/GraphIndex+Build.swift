// Building the graph: each new row draws its top layer (P(level ≥ l) = M^−l), descends from the
// entry point, and on each of its layers beams for `efConstruction` candidates, keeps up to M
// (2M on layer 0) chosen by HNSW's heuristic — a candidate is kept only if it is nearer to the
// new row than to every neighbour already kept, which spreads the links in direction — and links
// both ways, shrinking a full list by the same rule. Rows are inserted on all threads at once,
// one spin lock per node guarding its lists.
import CKernels
import Foundation
import Neural

extension GraphIndex {
    /// Appends `newRows` (m, d); their ids continue from `count`.
    public func add(_ newRows: Tensor) {
        precondition(newRows.rank == 2 && newRows.shape[1] == dimension,
                     "GraphIndex: rows \(newRows.shape), dimension \(dimension)")
        newRows.withUnsafeBufferPointer { add(rowsFrom: $0) }
    }

    /// Appends the rows in `floats` (m·d values, row after row) without an intermediate copy:
    /// growing an index in place passes the tail of the whole matrix.
    public func add(rowsFrom floats: UnsafeBufferPointer<Float>) {
        precondition(floats.count % dimension == 0, "GraphIndex: \(floats.count) floats are not rows of \(dimension)")
        let start = count, m = floats.count / dimension
        guard m > 0 else { return }
        var generator = SeededGenerator(seed: seed ^ (UInt64(start) &* 0x9E37_79B9_7F4A_7C15))
        rows.append(contentsOf: floats)
        links0.append(contentsOf: [Int32](repeating: 0, count: m * stride0))
        for _ in 0..<m {
            let u = max(Double.leastNonzeroMagnitude, generator.nextUnitDouble())
            let level = min(30, Int(-log(u) * levelScale))
            levels.append(UInt8(level))
            upperOffset.append(level > 0 ? Int64(upper.count) : -1)
            if level > 0 { upper.append(contentsOf: [Int32](repeating: 0, count: level * strideUp)) }
        }
        if entryPoint < 0 { entryPoint = Int32(start) }
        let first = entryPoint == Int32(start) ? start + 1 : start
        let total = count
        let locks = UnsafeMutablePointer<Int32>.allocate(capacity: total + 1)
        locks.initialize(repeating: 0, count: total + 1)
        defer { locks.deallocate() }
        let slots = max(1, min(parameters.threads, total - first))
        let workspaces = (0..<slots).map { _ in GraphWorkspace(nodes: total, capacity: efConstruction + 2 * neighbors + 8) }
        var entry = entryPoint
        let (stride0, strideUp) = (self.stride0, self.strideUp)
        rows.withUnsafeBufferPointer { r in
            links0.withUnsafeMutableBufferPointer { l0 in
                upper.withUnsafeMutableBufferPointer { up in
                    upperOffset.withUnsafeBufferPointer { offsets in
                        withUnsafeMutablePointer(to: &entry) { entry in
                            var graph = rk_graph(rows: r.baseAddress, d: dimension, links0: UnsafePointer(l0.baseAddress),
                                                 stride0: stride0, upper: UnsafePointer(up.baseAddress),
                                                 upperOffset: offsets.baseAddress, strideUp: strideUp, locks: locks)
                            withUnsafePointer(to: &graph) { graph in
                                let builder = GraphBuilder(index: self, graph: graph, links0: l0.baseAddress!,
                                                           upper: up.baseAddress, levels: levels, upperOffset: offsets,
                                                           locks: locks, globalLock: locks + total, entry: entry)
                                parallelItems(total - first, slots: slots) { slot, i in
                                    builder.insert(Int32(first + i), workspaces[slot])
                                }
                            }
                        }
                    }
                }
            }
        }
        entryPoint = entry
    }
}

/// One build's shared view: where every list lives and the locks that guard them.
private struct GraphBuilder {
    let index: GraphIndex
    let graph: UnsafePointer<rk_graph>
    let links0: UnsafeMutablePointer<Int32>
    let upper: UnsafeMutablePointer<Int32>?
    /// Copies taken before the threads start: reading the index's own arrays from every thread
    /// would go through its exclusivity checks.
    let levels: [UInt8]
    let upperOffset: UnsafeBufferPointer<Int64>
    let locks: UnsafeMutablePointer<Int32>
    let globalLock: UnsafeMutablePointer<Int32>
    let entry: UnsafeMutablePointer<Int32>

    var d: Int { index.dimension }

    func row(_ node: Int32) -> UnsafePointer<Float> { graph.pointee.rows + Int(node) * d }

    /// Node's list at `layer`: a count, then the ids.
    func list(_ node: Int32, _ layer: Int) -> UnsafeMutablePointer<Int32> {
        layer == 0 ? links0 + Int(node) * index.stride0
            : upper! + Int(upperOffset[Int(node)]) + (layer - 1) * index.strideUp
    }

    func capacity(_ layer: Int) -> Int { layer == 0 ? 2 * index.neighbors : index.neighbors }

    func insert(_ node: Int32, _ workspace: GraphWorkspace) {
        let level = Int(levels[Int(node)])
        rk_spin_lock(globalLock)
        var current = entry.pointee
        rk_spin_unlock(globalLock)
        let top = Int(levels[Int(current)])
        let q = row(node)
        var score = rk_dot(q, row(current), d)
        for layer in stride(from: top, to: level, by: -1) {
            current = rk_graph_greedy(graph, q, current, &score, Int32(layer))
        }
        var entries = [rk_hit(score: score, id: current)]
        for layer in stride(from: min(level, top), through: 0, by: -1) {
            let found = Array(workspace.search(graph, q, entries: entries, ef: index.efConstruction, layer: layer))
            let chosen = select(found.filter { $0.id != node }, for: q, keep: capacity(layer))
            rk_spin_lock(locks + Int(node))
            write(chosen.map(\.id), to: list(node, layer))
            rk_spin_unlock(locks + Int(node))
            for neighbour in chosen { link(neighbour.id, to: node, score: neighbour.score, layer: layer) }
            entries = found
        }
        if level > top {
            rk_spin_lock(globalLock)
            if level > Int(levels[Int(entry.pointee)]) { entry.pointee = node }
            rk_spin_unlock(globalLock)
        }
    }

    /// Adds `node` to `neighbour`'s list at `layer`; a full list is shrunk by the heuristic.
    private func link(_ neighbour: Int32, to node: Int32, score: Float, layer: Int) {
        rk_spin_lock(locks + Int(neighbour))
        defer { rk_spin_unlock(locks + Int(neighbour)) }
        let l = list(neighbour, layer), n = Int(l[0]), cap = capacity(layer)
        for i in 0..<n where l[i + 1] == node { return }
        if n < cap {
            l[n + 1] = node
            l[0] = Int32(n + 1)
            return
        }
        let base = row(neighbour)
        var candidates = (0..<n).map { rk_hit(score: rk_dot(base, row(l[$0 + 1]), d), id: l[$0 + 1]) }
        candidates.append(rk_hit(score: score, id: node))
        write(select(candidates.sorted { $0.score > $1.score }, for: base, keep: cap).map(\.id), to: l)
    }

    /// HNSW's heuristic over `candidates` sorted best first (scores against `q`): keep a
    /// candidate only if it scores higher with `q` than with every one kept before it; fill up
    /// with the best of the rest if fewer than `keep` pass.
    private func select(_ candidates: [rk_hit], for q: UnsafePointer<Float>, keep: Int) -> [rk_hit] {
        if candidates.count <= keep { return candidates }
        var kept: [rk_hit] = [], skipped: [rk_hit] = []
        for c in candidates {
            if kept.count == keep { break }
            let cr = row(c.id)
            if kept.allSatisfy({ rk_dot(cr, row($0.id), d) < c.score }) { kept.append(c) } else { skipped.append(c) }
        }
        for s in skipped where kept.count < keep { kept.append(s) }
        return kept
    }

    private func write(_ ids: [Int32], to l: UnsafeMutablePointer<Int32>) {
        for (i, id) in ids.enumerated() { l[i + 1] = id }
        l[0] = Int32(ids.count)
    }
}
