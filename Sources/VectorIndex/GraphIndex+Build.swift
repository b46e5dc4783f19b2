// Building the graph: each new row draws its top layer (P(level ≥ l) = M^−l) here; its insertion
// (descent, beam, HNSW's neighbour heuristic, links both ways) is CKernels' `rk_graph_insert`
// (graph_build.c), run for all new rows on all threads at once, one spin lock per node guarding
// its lists.
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
        if isQuantized { code(floats) }
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
        let step = quantizer?.step ?? []
        rows.withUnsafeBufferPointer { r in
            links0.withUnsafeMutableBufferPointer { l0 in
                upper.withUnsafeMutableBufferPointer { up in
                    upperOffset.withUnsafeBufferPointer { offsets in
                        levels.withUnsafeBufferPointer { levels in
                            withUnsafeMutablePointer(to: &entry) { entry in
                                codes.withUnsafeBufferPointer { c in
                                    step.withUnsafeBufferPointer { step in
                                        let graph = rk_graph(rows: r.baseAddress, codes: isQuantized ? c.baseAddress : nil, d: dimension,
                                                             links0: UnsafePointer(l0.baseAddress), stride0: stride0,
                                                             upper: UnsafePointer(up.baseAddress), upperOffset: offsets.baseAddress,
                                                             strideUp: strideUp, locks: locks)
                                        let builder = rk_graph_builder(levels: levels.baseAddress, entry: entry, entry_lock: locks + total,
                                                                       neighbors: neighbors, ef_construction: efConstruction,
                                                                       step: step.baseAddress)
                                        withUnsafePointer(to: graph) { graph in
                                            withUnsafePointer(to: builder) { builder in
                                                parallelItems(total - first, slots: slots) { slot, i in
                                                    workspaces[slot].insert(Int32(first + i), graph, builder)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        entryPoint = entry
    }

    /// Codes the rows just added (the last of `floats`). Rows outside the quantiser's ranges
    /// widen them, and then every row is coded again: the walk never sees a clamped value.
    func code(_ floats: UnsafeBufferPointer<Float>) {
        let fresh = ScalarQuantizer(training: floats, dimension: dimension)
        if let current = quantizer, current.covers(fresh) {
            codes.append(contentsOf: current.encode(floats.baseAddress!, count: floats.count / dimension))
            return
        }
        let widened = quantizer.map { $0.widened(to: fresh) } ?? fresh
        quantizer = widened
        codes = RowStorage(rows.withUnsafeBufferPointer { widened.encode($0.baseAddress!, count: $0.count / dimension) })
    }
}
