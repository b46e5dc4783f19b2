// The figures the collapse monitor judges, computed from what a training step already has:
// the B×B similarity (or score) matrix, the two embedding batches, the loss, the temperature
// and the gradient norms by group. One pass over S, one over each batch, one small GEMM each
// for the effective rank.
import Foundation
import Neural

/// One step's health figures; every field goes to the metrics JSON line.
public struct CollapseFigures: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double
    public var batchSize: Int
    /// ln(B): the N-pair loss of an all-equal similarity matrix.
    public var chanceLoss: Double
    public var meanPositive: Double
    public var meanNegative: Double
    /// meanPositive − meanNegative: how far a true pair stands above the rest.
    public var gap: Double
    /// Standard deviation of all B² scores.
    public var scoreSpread: Double
    /// √(total variance / mean squared norm) of each tower's batch: 0 when every input maps to one point.
    public var imageSpread: Double
    public var textSpread: Double
    /// Participation ratio (tr C)²/tr(C²) of each batch's covariance: how many directions it uses.
    public var imageRank: Double
    public var textRank: Double
    public var logScale: Double
    /// Largest over smallest gradient norm among parameter groups (1 with fewer than two groups).
    public var gradientRatio: Double
    public var gradientNorms: [String: Double]
    public var allFinite: Bool

    enum CodingKeys: String, CodingKey {
        case step, loss
        case batchSize = "batch"
        case chanceLoss = "chance_loss"
        case meanPositive = "pos_cos", meanNegative = "neg_cos", gap
        case scoreSpread = "score_std"
        case imageSpread = "image_spread", textSpread = "text_spread"
        case imageRank = "image_rank", textRank = "text_rank"
        case logScale = "log_scale"
        case gradientRatio = "grad_ratio", gradientNorms = "grad_norms"
        case allFinite = "finite"
    }

    /// Computes every figure. `similarity` is (B, B) with the positives on the diagonal;
    /// `excluded` marks duplicate pairs that are neither positives nor negatives.
    public init(step: Int, loss: Float, similarity: Tensor, image: Tensor, text: Tensor,
                logScale: Float, gradientNorms: [String: Double], excluded: [Bool]? = nil) {
        let b = similarity.shape[0]
        precondition(similarity.shape == [b, b], "similarity must be square, got \(similarity.shape)")
        self.step = step
        self.loss = Double(loss)
        self.batchSize = b
        self.chanceLoss = log(Double(max(b, 1)))
        self.logScale = Double(logScale)
        self.gradientNorms = gradientNorms

        var positive = 0.0, negative = 0.0, negatives = 0, sum = 0.0, sumSquares = 0.0
        var finite = loss.isFinite && logScale.isFinite
        similarity.withUnsafeBufferPointer { s in
            for i in 0..<b {
                for j in 0..<b {
                    let v = Double(s[i * b + j])
                    if !v.isFinite { finite = false; continue }
                    sum += v
                    sumSquares += v * v
                    if i == j { positive += v } else if excluded?[i * b + j] != true { negative += v; negatives += 1 }
                }
            }
        }
        let n = Double(max(1, b * b))
        meanPositive = positive / Double(max(1, b))
        meanNegative = negatives > 0 ? negative / Double(negatives) : meanPositive
        gap = meanPositive - meanNegative
        scoreSpread = max(0, sumSquares / n - (sum / n) * (sum / n)).squareRoot()

        let imageStats = BatchGeometry(image)
        let textStats = BatchGeometry(text)
        imageSpread = imageStats.spread
        textSpread = textStats.spread
        imageRank = imageStats.participationRatio
        textRank = textStats.participationRatio
        finite = finite && imageStats.finite && textStats.finite

        let norms = gradientNorms.values
        finite = finite && norms.allSatisfy(\.isFinite)
        let positiveNorms = norms.filter { $0 > 0 }
        if positiveNorms.count >= 2, let hi = positiveNorms.max(), let lo = positiveNorms.min() {
            gradientRatio = hi / lo
        } else {
            gradientRatio = 1
        }
        allFinite = finite
    }
}

/// Spread and effective rank of one (B, D) batch of embeddings.
struct BatchGeometry {
    var spread = 0.0
    var participationRatio = 0.0
    var finite = true

    init(_ batch: Tensor) {
        let b = batch.shape[0], d = batch.columns
        guard b > 1, d > 0 else { return }
        var centred = batch
        var meanSquaredNorm = 0.0
        centred.withUnsafeMutableBufferPointer { x in
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<b {
                for k in 0..<d {
                    let v = Double(x[i * d + k])
                    if !v.isFinite { finite = false }
                    mean[k] += v
                    meanSquaredNorm += v * v
                }
            }
            for k in 0..<d { mean[k] /= Double(b) }
            for i in 0..<b { for k in 0..<d { x[i * d + k] -= Float(mean[k]) } }
        }
        guard finite else { return }
        meanSquaredNorm /= Double(b)
        // tr C and tr C² from whichever Gram matrix is smaller: XᵀX (D×D) or XXᵀ (B×B) share
        // their non-zero spectrum.
        let gram = b <= d ? matmul(centred, centred, transposeB: true) : matmul(centred, centred, transposeA: true)
        var trace = 0.0, frobenius = 0.0
        let side = gram.shape[0]
        gram.withUnsafeBufferPointer { g in
            for i in 0..<side { trace += Double(g[i * side + i]) }
            for v in g { frobenius += Double(v) * Double(v) }
        }
        let variance = trace / Double(b)
        spread = meanSquaredNorm > 0 ? (variance / meanSquaredNorm).squareRoot() : 0
        participationRatio = frobenius > 0 ? trace * trace / frobenius : 0
    }
}
