// The sum over the ranks of one step's parameter gradients, overlapped with the backward pass
// that makes them: as soon as a part of the model has its gradients (the text tower, then each
// layer of the image tower from the top), that part's sum starts without blocking, and the
// earlier parts are moved along between layers. `finish` waits for what is still travelling and
// writes the sums back, so clipping and AdamW see the global gradient. The result is the one a
// single all-reduce of everything gives: each value is summed over the same ranks.
import Cluster
import Neural

final class GradientExchange {
    private let communicator: Communicator
    /// Parameters whose sum has not started yet, in model order.
    private var unsent: [Parameter]
    private var buffers: [Parameter]
    private var parts: [Part] = []

    /// One sum under way: its parameters, the rows of each sparse table it carries, and the
    /// buffers it averages.
    private struct Part {
        let parameters: [Parameter]
        let sparseRows: [[Int]?]
        let buffers: [Parameter]
        let sum: PendingSum
    }

    /// `parameters` are summed, `buffers` (batch norm's running statistics, updated by this
    /// step's forward) averaged, so every rank clips, steps, evaluates and saves the same model.
    init(communicator: Communicator, parameters: [Parameter], buffers: [Parameter]) {
        self.communicator = communicator
        unsent = parameters
        self.buffers = buffers
    }

    /// Starts the sum of `parameters`' gradients (those still unsent; the buffers ride with the
    /// first part) and moves the earlier parts along. Their gradients must be final.
    func send(_ parameters: [Parameter]) {
        let ids = Set(parameters.map(ObjectIdentifier.init))
        let ready = unsent.filter { ids.contains(ObjectIdentifier($0)) }
        unsent.removeAll { ids.contains(ObjectIdentifier($0)) }
        start(ready)
        for part in parts { part.sum.poll() }
    }

    /// Sends what is left, waits for every part and replaces each gradient by its sum over the
    /// ranks and each buffer by its mean.
    func finish() {
        start(unsent)
        unsent = []
        for part in parts { unpack(part) }
        parts = []
    }

    /// A sparse table (an embedding's `touchedRows`) sends only the rows some rank touched: the
    /// ranks first gather their row numbers (a blocking exchange, small next to the rows).
    private func start(_ parameters: [Parameter]) {
        let averaged = buffers
        guard !parameters.isEmpty || !averaged.isEmpty else { return }
        buffers = []
        let sparseRows = touchedRowsOfAnyRank(parameters)
        var total = averaged.reduce(0) { $0 + $1.value.count }
        for (p, rows) in zip(parameters, sparseRows) { total += rows.map { $0.count * p.gradient.columns } ?? p.gradient.count }
        var flat: [Float] = []
        flat.reserveCapacity(total)
        for (p, rows) in zip(parameters, sparseRows) {
            guard let rows else { flat += p.gradient.data; continue }
            let width = p.gradient.columns
            p.gradient.withUnsafeBufferPointer { g in
                for r in rows { flat.append(contentsOf: UnsafeBufferPointer(rebasing: g[(r * width)..<((r + 1) * width)])) }
            }
        }
        for b in averaged { flat += b.value.data }
        parts.append(Part(parameters: parameters, sparseRows: sparseRows, buffers: averaged, sum: communicator.startSum(flat)))
    }

    /// Writes a part's sums back. A table's touched rows become the union over the ranks, the
    /// rows one process on the whole batch would touch.
    private func unpack(_ part: Part) {
        let sums = part.sum.wait()
        var offset = 0
        for (p, rows) in zip(part.parameters, part.sparseRows) {
            guard let rows else {
                let n = p.gradient.count
                p.gradient.replaceData(Array(sums[offset..<(offset + n)]))
                offset += n
                continue
            }
            let width = p.gradient.columns
            p.gradient.withUnsafeMutableBufferPointer { g in
                for r in rows {
                    (g.baseAddress! + r * width).update(from: sums.baseAddress! + offset, count: width)
                    offset += width
                }
            }
            p.touchedRows = Set(rows)
        }
        let scale = 1 / Float(communicator.size)
        for b in part.buffers {
            let n = b.value.count
            b.value.replaceData(sums[offset..<(offset + n)].map { $0 * scale })
            offset += n
        }
    }

    /// For each sparse table of `parameters`, the rows any rank touched, ascending (the same
    /// list on every rank); nil for dense gradients. One gather of every table's row numbers,
    /// each table's list led by its length; none when the part holds no table.
    private func touchedRowsOfAnyRank(_ parameters: [Parameter]) -> [[Int]?] {
        let tables = parameters.indices.filter { parameters[$0].touchedRows != nil }
        guard !tables.isEmpty else { return parameters.map { _ in nil } }
        var mine: [Int32] = []
        for t in tables {
            let rows = parameters[t].touchedRows!
            mine.append(Int32(rows.count))
            mine += rows.map { Int32($0) }
        }
        let (all, counts) = communicator.allGather(mine)
        var union = [Set<Int>](repeating: [], count: tables.count)
        var offset = 0
        for count in counts {
            let end = offset + count
            for t in tables.indices {
                let n = Int(all[offset])
                union[t].formUnion(all[(offset + 1)..<(offset + 1 + n)].lazy.map { Int($0) })
                offset += 1 + n
            }
            precondition(offset == end, "a rank's touched rows do not match its tables")
        }
        var result = [[Int]?](repeating: nil, count: parameters.count)
        for (t, p) in tables.enumerated() { result[p] = union[t].sorted() }
        return result
    }
}
