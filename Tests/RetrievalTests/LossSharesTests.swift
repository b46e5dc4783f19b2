import Foundation
import Testing
import Neural
@testable import Retrieval

/// What lets each rank of an `mpirun` job compute only its rows of the loss (open_clip's local
/// loss): the shares of any split of the batch add up to the whole batch's loss, gradients and
/// monitor figures.
struct LossSharesTests {
    static let losses: [TrainingLoss] = [.nPair, .hinge(margin: 0.3), .sigmoid]

    private static func evaluate(_ loss: TrainingLoss, _ image: Tensor, _ text: Tensor, _ mask: DuplicateMask,
                                 rows: Range<Int>?) -> LossResult {
        switch loss {
        case .nPair: return ContrastiveLoss.nPair(image: image, text: text, logScale: 1.7, mask: mask, rows: rows)
        case .hinge(let m): return ContrastiveLoss.hardestNegativeHinge(image: image, text: text, margin: Float(m), mask: mask, rows: rows)
        case .sigmoid: return ContrastiveLoss.sigmoid(image: image, text: text, logScale: 1.2, bias: -3, mask: mask, rows: rows)
        }
    }

    private static func normalisedBatch(_ b: Int, _ d: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        var t = Tensor(randomNormal: [b, d], std: 1, using: &rng)
        t.withUnsafeMutableBufferPointer { x in
            for i in 0..<b {
                let norm = (0..<d).reduce(Float(0)) { $0 + x[i * d + $1] * x[i * d + $1] }.squareRoot()
                for k in 0..<d { x[i * d + k] /= norm }
            }
        }
        return t
    }

    @Test(arguments: losses, [[7], [3, 4], [1, 2, 4], [2, 0, 5]])
    func sharesOfAnySplitAddUpToTheWholeBatch(loss: TrainingLoss, split: [Int]) throws {
        let b = 7, d = 5
        let image = Self.normalisedBatch(b, d, seed: 11), text = Self.normalisedBatch(b, d, seed: 12)
        // Pictures 0 and 3 are one picture, captions 2 and 6 one caption: neither pair is a negative.
        let mask = DuplicateMask(imageKeys: [0, 1, 2, 0, 4, 5, 6], captionKeys: [0, 1, 2, 3, 4, 5, 2])
        let whole = Self.evaluate(loss, image, text, mask, rows: nil)
        var lossSum = 0.0, scaleSum = 0.0, biasSum = 0.0
        var gradImage = [Double](repeating: 0, count: b * d), gradText = gradImage
        var sums = [Double](repeating: 0, count: 10)
        var first = 0
        for rows in split {
            let share = Self.evaluate(loss, image, text, mask, rows: first..<(first + rows))
            first += rows
            lossSum += Double(share.loss)
            scaleSum += Double(share.gradLogScale)
            biasSum += Double(share.gradLogitBias)
            for k in 0..<(b * d) { gradImage[k] += Double(share.gradImage.data[k]); gradText[k] += Double(share.gradText.data[k]) }
            for (k, v) in ScoreSums(share.scores, excluded: mask.excluded).values.enumerated() { sums[k] += v }
        }
        #expect(abs(lossSum - Double(whole.loss)) < 1e-6 * max(1, abs(Double(whole.loss))))
        #expect(abs(scaleSum - Double(whole.gradLogScale)) < 1e-5)
        #expect(abs(biasSum - Double(whole.gradLogitBias)) < 1e-5)
        for k in 0..<(b * d) {
            #expect(abs(gradImage[k] - Double(whole.gradImage.data[k])) < 1e-6, "image grad \(k)")
            #expect(abs(gradText[k] - Double(whole.gradText.data[k])) < 1e-6, "text grad \(k)")
        }
        let wholeSums = ScoreSums(similarity: whole.similarity, excluded: mask.excluded).values
        for (k, v) in sums.enumerated() { #expect(abs(v - wholeSums[k]) < 1e-5, "score sum \(k)") }
        #expect(whole.gradImage.isFinite && whole.loss > 0)
    }

    @Test func figuresFromSumsAreThoseOfTheMatrix() {
        // A batch where the monitor's figures are known by hand: two of three pictures find their caption.
        let image = Tensor(shape: [3, 2], data: [1, 0, 0, 1, 1, 0])
        let text = Tensor(shape: [3, 2], data: [1, 0, 0, 1, 0, 1])
        let s = ContrastiveLoss.nPair(image: image, text: text, logScale: 0).similarity
        // S = [[1, 0, 0], [0, 1, 1], [1, 0, 0]]
        let f = CollapseFigures(step: 1, loss: 1, similarity: s, image: image, text: text, logScale: 0, gradientNorms: [:])
        #expect(abs(f.meanPositive - 2.0 / 3) < 1e-12 && abs(f.meanNegative - 2.0 / 6) < 1e-12)
        // Rows: 0 hits; 1 ties with caption 2 (1/2); 2 loses to caption 0. Columns: 0 ties with
        // picture 2 (1/2); 1 hits; 2 loses to picture 1. (1 + 1/2 + 1/2 + 1) / 6.
        #expect(abs(f.batchTop1 - 3.0 / 6) < 1e-12 && abs(f.batchTop1Chance - 1.0 / 3) < 1e-12)
    }
}
