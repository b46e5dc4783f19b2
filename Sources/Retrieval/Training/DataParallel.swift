// What the ranks of an `mpirun` job exchange so that together they take the optimisation step
// one process would take on the whole batch. Each rank forwards its rows; the embeddings of
// every rank are gathered, so every rank's loss sees every negative of the batch. Each rank
// computes the loss's share of its own rows and columns of the B×B scores (open_clip's local
// loss: R·B scores per rank, not B²); the shares' gradients with respect to all embeddings are
// summed with each rank receiving its own rows (one reduce-scatter), and the loss, the
// temperature's and bias's gradients and the monitor's score sums in one small all-reduce, so
// every rank back-propagates its rows with the whole batch's gradient. The parameter gradients are then summed over the ranks
// before clipping, a part at a time while backward goes on (`GradientExchange`), so clipping and
// AdamW see the global gradient and every rank takes the same step. Batch norm is synchronised: each normalising block merges the ranks' batch statistics
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

    /// The exchange that sums this step's gradients over the ranks, part by part as backward
    /// finishes them.
    func gradientExchange(of parameters: [Parameter], averaging buffers: [Parameter]) -> GradientExchange {
        GradientExchange(communicator: communicator, parameters: parameters, buffers: buffers)
    }
}
