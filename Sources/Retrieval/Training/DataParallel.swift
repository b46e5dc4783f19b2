// What the ranks of an `mpirun` job exchange so that together they take the optimisation step
// one process would take on the whole batch. Each rank forwards its rows; the embeddings of
// every rank are gathered, so every rank's loss sees every negative of the batch. Each rank
// computes the loss's share of its own rows and columns of the B×B scores (open_clip's local
// loss: R·B scores per rank, not B²); the shares' gradients with respect to all embeddings are
// summed with each rank receiving its own rows (one reduce-scatter), and the loss, the
// temperature's and bias's gradients and the monitor's score sums in one small all-reduce, so
// every rank back-propagates its rows with the whole batch's gradient. The parameter gradients are then summed over the ranks in one buffer
// before clipping, so clipping and AdamW see the global gradient and every rank takes the same
// step. Batch norm is synchronised: each normalising block merges the ranks' batch statistics
// in forward and their gradient sums in backward, so it normalises by the whole batch as one
// process would; the running statistics (then the same on every rank) are averaged with the
// gradients all the same, so the ranks hold one model whatever rounding does.
import Cluster
import Foundation
import Neural
import Vision

extension Communicator: BatchStatisticsGroup {}

struct DataParallel {
    let communicator: Communicator

    /// Joins the image tower's normalising blocks to the job's ranks.
    init(communicator: Communicator, model: DualEncoder) {
        self.communicator = communicator
        for case let block as ConvNormReLUPool in model.image.network.layers { block.statisticsGroup = communicator }
    }

    /// The whole batch's image and text embeddings, every rank's rows in rank order, the rows
    /// that are this rank's and how many rows each rank has.
    func gather(image: Tensor, text: Tensor) -> (image: Tensor, text: Tensor, rows: Range<Int>, rowsPerRank: [Int]) {
        precondition(image.shape == text.shape && image.rank == 2, "embeddings \(image.shape) and \(text.shape)")
        let d = image.columns
        let (all, counts) = communicator.allGather(image.data + text.data)
        var globalImage: [Float] = [], globalText: [Float] = []
        globalImage.reserveCapacity(all.count / 2)
        globalText.reserveCapacity(all.count / 2)
        var offset = 0, rowsBefore = 0
        for (r, count) in counts.enumerated() {
            let half = count / 2
            globalImage += all[offset..<(offset + half)]
            globalText += all[(offset + half)..<(offset + count)]
            offset += count
            if r < communicator.rank { rowsBefore += half / d }
        }
        let b = globalImage.count / d
        return (Tensor(shape: [b, d], data: globalImage), Tensor(shape: [b, d], data: globalText),
                rowsBefore..<(rowsBefore + image.rows), counts.map { $0 / (2 * d) })
    }

    /// The whole batch's loss from every rank's share (`share`, of this rank's rows, and its
    /// score sums `scores`): the loss, temperature and bias gradients and the sums become the
    /// whole batch's, and the result is the gradient of this rank's (R, D) image and text rows.
    func sum(_ share: inout LossResult, scores: inout ScoreSums, rowsPerRank: [Int]) -> (image: Tensor, text: Tensor) {
        let d = share.gradImage.columns
        var parts: [Float] = []
        parts.reserveCapacity(2 * share.gradImage.count)
        var first = 0
        for rows in rowsPerRank {
            let range = (first * d)..<((first + rows) * d)
            parts += share.gradImage.data[range]
            parts += share.gradText.data[range]
            first += rows
        }
        let mine = communicator.reduceScatterSum(parts, counts: rowsPerRank.map { 2 * $0 * d })
        let half = mine.count / 2
        let totals = communicator.allReduceSum(
            [Double(share.loss), Double(share.gradLogScale), Double(share.gradLogitBias)] + scores.values)
        (share.loss, share.gradLogScale, share.gradLogitBias) = (Float(totals[0]), Float(totals[1]), Float(totals[2]))
        scores = ScoreSums(values: Array(totals[3...]))
        return (Tensor(shape: [half / d, d], data: Array(mine[..<half])), Tensor(shape: [half / d, d], data: Array(mine[half...])))
    }

    /// Replaces every gradient of `parameters` by its sum over the ranks and every value of
    /// `buffers` (batch norm's running statistics, updated by this step's forward) by its mean,
    /// so every rank clips, steps, evaluates and saves the same model. A sparse table (an
    /// embedding's `touchedRows`) sends only the rows some rank touched: the ranks first gather
    /// their row numbers, then sum those rows with every dense gradient in one exchange. Its
    /// touched rows become that union, the rows one process on the whole batch would touch.
    func exchange(gradients parameters: [Parameter], averaging buffers: [Parameter]) {
        let sparseRows = touchedRowsOfAnyRank(parameters)
        var total = buffers.reduce(0) { $0 + $1.value.count }
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
        for b in buffers { flat += b.value.data }
        communicator.allReduceSum(&flat)
        var offset = 0
        for (p, rows) in zip(parameters, sparseRows) {
            guard let rows else {
                let n = p.gradient.count
                p.gradient.replaceData(Array(flat[offset..<(offset + n)]))
                offset += n
                continue
            }
            let width = p.gradient.columns
            p.gradient.withUnsafeMutableBufferPointer { g in
                flat.withUnsafeBufferPointer { sums in
                    for r in rows {
                        (g.baseAddress! + r * width).update(from: sums.baseAddress! + offset, count: width)
                        offset += width
                    }
                }
            }
            p.touchedRows = Set(rows)
        }
        let scale = 1 / Float(communicator.size)
        for b in buffers {
            let n = b.value.count
            b.value.replaceData(flat[offset..<(offset + n)].map { $0 * scale })
            offset += n
        }
    }

    /// For each sparse table of `parameters`, the rows any rank touched, ascending (the same
    /// list on every rank); nil for dense gradients. One gather of every table's row numbers,
    /// each table's list led by its length.
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
