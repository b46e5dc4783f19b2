// The figures the collapse monitor judges, computed from what a training step already has:
// the sums of the B×B similarity (or score) matrix (`ScoreSums`), the two embedding batches,
// the loss, the temperature and the gradient norms by tower and by parameter group. One pass
// over each batch, one small GEMM each for the effective rank.
import Foundation
import Neural

/// One step's health figures; every field goes to the metrics JSON line.
public struct CollapseFigures: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double
    public var batchSize: Int
    /// The loss of an all-equal similarity matrix: ln(B) for the N-pair loss; for the sigmoid
    /// loss, that of every pair at this batch's mean logit exp(s)·mean cos + b.
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
    /// The sigmoid loss's logit bias b; nil for the other losses.
    public var logitBias: Double?
    /// Largest over smallest gradient norm among the towers (1 with fewer than two).
    public var gradientRatio: Double
    /// Gradient norm of each tower ("image", "text").
    public var gradientNorms: [String: Double]
    /// Gradient, value and update figures of each parameter group (a layer, a table, the
    /// temperature), keyed by the group's name.
    public var groups: [String: GroupGradient]
    /// The largest group's gradient norm over the median group's (1 with fewer than three
    /// groups), and that group.
    public var groupRatio: Double
    public var largestGroup: String?
    /// This step's learning rate as a fraction of the peak (the schedule and any rollback).
    public var learningRateFraction: Double
    /// Share of the batch's 2B queries (each picture among the captions, each caption among the
    /// pictures) whose own partner scores highest, ties counted as in random order; and the
    /// share a random ranking gets (about 1/B).
    public var batchTop1: Double
    public var batchTop1Chance: Double
    public var allFinite: Bool

    enum CodingKeys: String, CodingKey {
        case step, loss
        case batchSize = "batch"
        case chanceLoss = "chance_loss"
        case meanPositive = "pos_cos", meanNegative = "neg_cos", gap
        case scoreSpread = "score_std"
        case imageSpread = "image_spread", textSpread = "text_spread"
        case imageRank = "image_rank", textRank = "text_rank"
        case logScale = "log_scale", logitBias = "logit_bias"
        case gradientRatio = "grad_ratio", gradientNorms = "grad_norms", groups
        case groupRatio = "group_ratio", largestGroup = "largest_group", learningRateFraction = "lr_fraction"
        case batchTop1 = "batch_top1", batchTop1Chance = "batch_top1_chance"
        case allFinite = "finite"
    }

    /// Computes every figure. `similarity` is (B, B) with the positives on the diagonal;
    /// `excluded` marks duplicate pairs that are neither positives nor negatives.
    public init(step: Int, loss: Float, similarity: Tensor, image: Tensor, text: Tensor,
                logScale: Float, gradientNorms: [String: Double], groups: [String: GroupGradient] = [:],
                learningRateFraction: Double = 1, excluded: [Bool]? = nil, logitBias: Float? = nil) {
        self.init(step: step, loss: loss, scores: ScoreSums(similarity: similarity, excluded: excluded), image: image,
                  text: text, logScale: logScale, gradientNorms: gradientNorms, groups: groups,
                  learningRateFraction: learningRateFraction, logitBias: logitBias)
    }

    /// Computes every figure from the sums of the whole batch's scores; `image` and `text` are
    /// the whole batch's (B, D) embeddings.
    public init(step: Int, loss: Float, scores: ScoreSums, image: Tensor, text: Tensor,
                logScale: Float, gradientNorms: [String: Double], groups: [String: GroupGradient] = [:],
                learningRateFraction: Double = 1, logitBias: Float? = nil) {
        let b = image.rows
        self.step = step
        self.loss = Double(loss)
        self.batchSize = b
        self.chanceLoss = log(Double(max(b, 1)))
        self.logScale = Double(logScale)
        self.gradientNorms = gradientNorms
        self.groups = groups
        self.learningRateFraction = learningRateFraction
        (groupRatio, largestGroup) = Self.largestOverMedian(groups)

        var finite = loss.isFinite && logScale.isFinite && scores.nonFinite == 0
        let n = max(1, scores.entries)
        meanPositive = scores.positive / Double(max(1, b))
        meanNegative = scores.negatives > 0 ? scores.negative / scores.negatives : meanPositive
        gap = meanPositive - meanNegative
        scoreSpread = max(0, scores.sumSquares / n - (scores.sum / n) * (scores.sum / n)).squareRoot()
        self.logitBias = logitBias.map(Double.init)
        if let bias = logitBias {
            // Sigmoid: the loss if every unmasked pair scored the batch's mean logit.
            let pairs = Double(b) + scores.negatives
            let meanCosine = pairs > 0 ? (scores.positive + scores.negative) / pairs : 0
            chanceLoss = ContrastiveLoss.sigmoidFlatLoss(batch: b, negatives: Int(scores.negatives),
                                                         logit: exp(Double(logScale)) * meanCosine + Double(bias))
            finite = finite && bias.isFinite
        }
        let queries = max(1, scores.queries)
        (batchTop1, batchTop1Chance) = (scores.top1Hits / queries, scores.top1Chance / queries)

        let imageStats = BatchGeometry(image)
        let textStats = BatchGeometry(text)
        imageSpread = imageStats.spread
        textSpread = textStats.spread
        imageRank = imageStats.participationRatio
        textRank = textStats.participationRatio
        finite = finite && imageStats.finite && textStats.finite

        let norms = gradientNorms.values
        finite = finite && norms.allSatisfy(\.isFinite) && groups.values.allSatisfy(\.isFinite)
        let positiveNorms = norms.filter { $0 > 0 }
        if positiveNorms.count >= 2, let hi = positiveNorms.max(), let lo = positiveNorms.min() {
            gradientRatio = hi / lo
        } else {
            gradientRatio = 1
        }
        allFinite = finite
    }
}

extension CollapseFigures {
    /// Reads figures written by any version: fields added since the first default to what a
    /// run without them would have shown.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        loss = try c.decode(Double.self, forKey: .loss)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        chanceLoss = try c.decode(Double.self, forKey: .chanceLoss)
        meanPositive = try c.decode(Double.self, forKey: .meanPositive)
        meanNegative = try c.decode(Double.self, forKey: .meanNegative)
        gap = try c.decode(Double.self, forKey: .gap)
        scoreSpread = try c.decode(Double.self, forKey: .scoreSpread)
        imageSpread = try c.decode(Double.self, forKey: .imageSpread)
        textSpread = try c.decode(Double.self, forKey: .textSpread)
        imageRank = try c.decode(Double.self, forKey: .imageRank)
        textRank = try c.decode(Double.self, forKey: .textRank)
        logScale = try c.decode(Double.self, forKey: .logScale)
        logitBias = try c.decodeIfPresent(Double.self, forKey: .logitBias)
        gradientRatio = try c.decode(Double.self, forKey: .gradientRatio)
        gradientNorms = try c.decode([String: Double].self, forKey: .gradientNorms)
        allFinite = try c.decode(Bool.self, forKey: .allFinite)
        groups = try c.decodeIfPresent([String: GroupGradient].self, forKey: .groups) ?? [:]
        (groupRatio, largestGroup) = Self.largestOverMedian(groups)
        learningRateFraction = try c.decodeIfPresent(Double.self, forKey: .learningRateFraction) ?? 1
        // Unknown batch retrieval reads as perfect, so an old file is never judged as chance.
        batchTop1 = try c.decodeIfPresent(Double.self, forKey: .batchTop1) ?? 1
        batchTop1Chance = try c.decodeIfPresent(Double.self, forKey: .batchTop1Chance) ?? 1 / Double(max(1, batchSize))
    }

    /// The largest group gradient norm over the median one, and its group. Groups with a zero
    /// gradient (a frozen part) do not count; fewer than three measured groups give 1.
    static func largestOverMedian(_ groups: [String: GroupGradient]) -> (Double, String?) {
        let measured = groups.filter { $0.value.gradientNorm > 0 && $0.value.gradientNorm.isFinite }
            .sorted { $0.value.gradientNorm < $1.value.gradientNorm }
        guard measured.count >= 3, let largest = measured.last else { return (1, nil) }
        let median = measured[measured.count / 2].value.gradientNorm
        return (largest.value.gradientNorm / median, largest.key)
    }
}

/// One parameter group's figures on one step.
public struct GroupGradient: Codable, Sendable, Equatable {
    /// L2 norm of the group's gradient, before clipping.
    public var gradientNorm: Double
    /// L2 norm of the group's values.
    public var valueNorm: Double
    /// ‖Δp‖/‖p‖ of the step (0 when the step was skipped).
    public var updateRatio: Double

    enum CodingKeys: String, CodingKey { case gradientNorm = "grad", valueNorm = "value", updateRatio = "update" }

    public init(gradientNorm: Double, valueNorm: Double, updateRatio: Double) {
        self.gradientNorm = gradientNorm
        self.valueNorm = valueNorm
        self.updateRatio = updateRatio
    }

    var isFinite: Bool { gradientNorm.isFinite && valueNorm.isFinite && updateRatio.isFinite }
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
