// What the ranks of an `mpirun` job exchange so that together they take the optimisation step
// one process would take on the whole batch. Each rank forwards its rows; the embeddings of
// every rank are gathered, so every rank computes the loss of the whole batch (every negative,
// the same figure everywhere) and its gradient with respect to all embeddings, and back-propagates
// only its own rows. The parameter gradients are then summed over the ranks in one buffer
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

    /// The whole batch's image and text embeddings, every rank's rows in rank order, and the
    /// rows that are this rank's.
    func gather(image: Tensor, text: Tensor) -> (image: Tensor, text: Tensor, rows: Range<Int>) {
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
                rowsBefore..<(rowsBefore + image.rows))
    }

    /// Rows `rows` of a (B, D) tensor.
    static func rows(_ rows: Range<Int>, of tensor: Tensor) -> Tensor {
        let d = tensor.columns
        return Tensor(shape: [rows.count, d], data: Array(tensor.data[(rows.lowerBound * d)..<(rows.upperBound * d)]))
    }

    /// Replaces every gradient of `parameters` by its sum over the ranks and every value of
    /// `buffers` (batch norm's running statistics, updated by this step's forward) by its mean,
    /// in one exchange, so every rank clips, steps, evaluates and saves the same model. A sparse
    /// table's gradient is dense afterwards (other ranks touched other rows), so it is marked
    /// dense and its next zeroing clears all of it.
    func exchange(gradients parameters: [Parameter], averaging buffers: [Parameter]) {
        var flat: [Float] = []
        flat.reserveCapacity(parameters.reduce(0) { $0 + $1.gradient.count } + buffers.reduce(0) { $0 + $1.value.count })
        for p in parameters { flat += p.gradient.data }
        for b in buffers { flat += b.value.data }
        communicator.allReduceSum(&flat)
        var offset = 0
        for p in parameters {
            let n = p.gradient.count
            p.gradient.replaceData(Array(flat[offset..<(offset + n)]))
            p.touchedRows = nil
            offset += n
        }
        let scale = 1 / Float(communicator.size)
        for b in buffers {
            let n = b.value.count
            b.value.replaceData(flat[offset..<(offset + n)].map { $0 * scale })
            offset += n
        }
    }
}
