// The symmetric N-pair (InfoNCE) loss over cosine similarities with a learnable temperature,
// and its exact gradient. Pairs that share an image or a caption are not negatives: they are
// masked out of every denominator. Log-sum-exp keeps any logit value finite.
import Foundation
import Neural

/// What one loss evaluation hands back: the value, the gradients for both embedding batches
/// and the log-temperature, and the scores the collapse monitor reads. Evaluated on a part of
/// the batch (`rows`), every figure is that part's share: the shares of a partition of the
/// batch add up to the whole batch's figures.
public struct LossResult {
    public var loss: Float
    /// The scores the loss read, rows = images, columns = captions.
    public var scores: ScoreBlock
    /// (B, D) each.
    public var gradImage: Tensor
    public var gradText: Tensor
    /// d loss / d s, where the logits are exp(s)·cos.
    public var gradLogScale: Float
    /// d loss / d b for the sigmoid loss's logit bias (0 for the other losses).
    public var gradLogitBias: Float = 0

    /// (B, B) cosine similarities, row = image, column = text; only of a whole batch.
    public var similarity: Tensor {
        precondition(scores.isWholeBatch, "the loss saw rows \(scores.rows) of \(scores.batchSize), not the whole matrix")
        return scores.imageRows
    }
}

/// Which pairs of a batch may not serve as each other's negatives (same image or same caption).
public struct DuplicateMask {
    /// Row-major (B, B); true where i ≠ j and the pair must be excluded.
    public let excluded: [Bool]
    public let size: Int
    public var isEmpty: Bool { !excluded.contains(true) }

    /// Pairs i ≠ j with equal image keys or equal caption keys are excluded.
    public init(imageKeys: [Int], captionKeys: [Int]) {
        precondition(imageKeys.count == captionKeys.count,
                     "\(imageKeys.count) image keys but \(captionKeys.count) caption keys")
        let n = imageKeys.count
        var excluded = [Bool](repeating: false, count: n * n)
        for i in 0..<n {
            for j in 0..<n where i != j && (imageKeys[i] == imageKeys[j] || captionKeys[i] == captionKeys[j]) {
                excluded[i * n + j] = true
            }
        }
        self.excluded = excluded
        self.size = n
    }

    /// No exclusions.
    public init(size: Int) {
        self.excluded = [Bool](repeating: false, count: size * size)
        self.size = size
    }
}

public enum ContrastiveLoss {
    /// Symmetric cross-entropy of logits exp(s)·I·Tᵀ, rows (image→text) and columns (text→image)
    /// averaged. `image` and `text` are the whole batch's (B, D) embeddings, already
    /// L2-normalised; `rows` (the whole batch when nil) are the pictures whose rows and the
    /// captions whose columns this call adds up.
    public static func nPair(image: Tensor, text: Tensor, logScale s: Float, mask: DuplicateMask? = nil,
                             rows: Range<Int>? = nil) -> LossResult {
        let scores = block(image, text, mask, rows)
        let b = scores.batchSize, n = scores.rows.count
        let scale = Float(exp(Double(s)))
        let excluded = mask?.excluded
        var total = 0.0, gradLogScale = 0.0
        // Each row of `scores` (a picture against every caption, then a caption against every
        // picture) is one softmax over its unmasked entries, the positive at column i.
        func softmaxRows(_ m: Tensor, ofText: Bool) -> Tensor {
            var grad = Tensor(zeros: [n, b])
            m.withUnsafeBufferPointer { sim in
                grad.withUnsafeMutableBufferPointer { g in
                    for r in 0..<n {
                        let i = scores.rows.lowerBound + r, row = r * b
                        var maxLogit = -Float.infinity
                        for j in 0..<b where excluded?[scores.maskIndex(row: r, column: j, ofText: ofText)] != true {
                            maxLogit = max(maxLogit, scale * sim[row + j])
                        }
                        var sum = 0.0
                        for j in 0..<b where excluded?[scores.maskIndex(row: r, column: j, ofText: ofText)] != true {
                            sum += exp(Double(scale * sim[row + j] - maxLogit))
                        }
                        let logSum = Double(maxLogit) + log(sum)
                        total += logSum - Double(scale * sim[row + i])
                        for j in 0..<b where excluded?[scores.maskIndex(row: r, column: j, ofText: ofText)] != true {
                            let p = exp(Double(scale * sim[row + j]) - logSum)
                            let gLogit = (p - (j == i ? 1 : 0)) / Double(2 * b)
                            // d loss / d s = Σ g_ij · exp(s) · S_ij; the cosines see exp(s)·g.
                            gradLogScale += gLogit * Double(scale) * Double(sim[row + j])
                            g[row + j] = Float(gLogit) * scale
                        }
                    }
                }
            }
            return grad
        }
        let gradRows = softmaxRows(scores.imageRows, ofText: false)
        let gradColumns = softmaxRows(scores.textRows, ofText: true)
        let (gradImage, gradText) = scores.backward(gradImageRows: gradRows, gradTextRows: gradColumns, image: image, text: text)
        return LossResult(loss: Float(total / Double(2 * b)), scores: scores,
                          gradImage: gradImage, gradText: gradText, gradLogScale: Float(gradLogScale))
    }

    /// VSE++'s max of hinges: for each positive pair, the hardest negative in its row and in its
    /// column must score at least `margin` below it. Scores are the raw products I·Tᵀ (cosines
    /// when the towers normalise); the temperature takes no part. `rows` as for `nPair`.
    public static func hardestNegativeHinge(image: Tensor, text: Tensor, margin: Float = 0.2,
                                            mask: DuplicateMask? = nil, rows: Range<Int>? = nil) -> LossResult {
        let scores = block(image, text, mask, rows)
        let b = scores.batchSize, n = scores.rows.count
        let excluded = mask?.excluded
        var total = 0.0
        func hinges(_ m: Tensor, ofText: Bool) -> Tensor {
            var grad = Tensor(zeros: [n, b])
            m.withUnsafeBufferPointer { sim in
                grad.withUnsafeMutableBufferPointer { g in
                    for r in 0..<n {
                        let i = scores.rows.lowerBound + r, row = r * b
                        var hardest = -1, hardestScore = -Float.infinity
                        for j in 0..<b where j != i && excluded?[scores.maskIndex(row: r, column: j, ofText: ofText)] != true {
                            if sim[row + j] > hardestScore { hardestScore = sim[row + j]; hardest = j }
                        }
                        guard hardest >= 0 else { continue }
                        let violation = margin - sim[row + i] + hardestScore
                        if violation > 0 {
                            total += Double(violation)
                            g[row + hardest] += 1 / Float(b)
                            g[row + i] -= 1 / Float(b)
                        }
                    }
                }
            }
            return grad
        }
        let gradRows = hinges(scores.imageRows, ofText: false)
        let gradColumns = hinges(scores.textRows, ofText: true)
        let (gradImage, gradText) = scores.backward(gradImageRows: gradRows, gradTextRows: gradColumns, image: image, text: text)
        return LossResult(loss: Float(total / Double(b)), scores: scores,
                          gradImage: gradImage, gradText: gradText, gradLogScale: 0)
    }

    /// SigLIP's pairwise sigmoid loss: every pair (i, j) is its own binary problem, logit
    /// z = exp(s)·cos + b, label +1 on the diagonal and −1 elsewhere, and the loss is
    /// −(1/B) Σ log σ(y·z) = (1/B) Σ softplus(−y·z), summed over every unmasked pair (rows and
    /// columns are the same pairs, so there is no second direction: `rows` adds up the pairs of
    /// those pictures). softplus(x) = max(x, 0) + log1p(exp(−|x|)) and σ are evaluated so that
    /// no logit gives log(0), exp overflow or a NaN gradient.
    public static func sigmoid(image: Tensor, text: Tensor, logScale s: Float, bias: Float,
                               mask: DuplicateMask? = nil, rows: Range<Int>? = nil) -> LossResult {
        let scores = block(image, text, mask, rows)
        let b = scores.batchSize, n = scores.rows.count
        let scale = exp(Double(s))
        var gradLogits = Tensor(zeros: [n, b])
        var total = 0.0, gradScale = 0.0, gradBias = 0.0
        let excluded = mask?.excluded
        let inverseB = 1 / Double(b)
        scores.imageRows.withUnsafeBufferPointer { sim in
            gradLogits.withUnsafeMutableBufferPointer { g in
                for r in 0..<n {
                    let i = scores.rows.lowerBound + r, row = r * b
                    for j in 0..<b where excluded?[scores.maskIndex(row: r, column: j, ofText: false)] != true {
                        let y: Double = i == j ? 1 : -1
                        let z = scale * Double(sim[row + j]) + Double(bias)
                        total += softplus(-y * z)
                        // d softplus(−y z)/dz = −y σ(−y z)
                        let dz = -y * logistic(-y * z) * inverseB
                        g[row + j] = Float(dz * scale)
                        gradScale += dz * scale * Double(sim[row + j])
                        gradBias += dz
                    }
                }
            }
        }
        let (gradImage, gradText) = scores.backward(gradImageRows: gradLogits, gradTextRows: nil, image: image, text: text)
        return LossResult(loss: Float(total * inverseB), scores: scores, gradImage: gradImage,
                          gradText: gradText, gradLogScale: Float(gradScale), gradLogitBias: Float(gradBias))
    }

    /// The sigmoid loss of a batch whose scores all equal one logit z (what a collapsed model
    /// gives): B positives at softplus(−z) and `negatives` at softplus(z), over B.
    public static func sigmoidFlatLoss(batch b: Int, negatives: Int, logit z: Double) -> Double {
        (Double(b) * softplus(-z) + Double(negatives) * softplus(z)) / Double(max(b, 1))
    }

    /// log(1 + eˣ) without overflow or log(0): max(x, 0) + log1p(e^−|x|).
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }

    /// 1 / (1 + e^−x), from the side where the exponential cannot overflow.
    static func logistic(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }

    /// The scores of `rows` (the whole batch when nil) of two (B, D) batches, with `mask` checked.
    private static func block(_ image: Tensor, _ text: Tensor, _ mask: DuplicateMask?, _ rows: Range<Int>?) -> ScoreBlock {
        precondition(image.rank == 2 && image.shape == text.shape,
                     "loss needs two (B, D) batches of one shape, got \(image.shape) and \(text.shape)")
        precondition(mask == nil || mask!.size == image.shape[0],
                     "mask is for \(mask!.size) pairs, batch has \(image.shape[0])")
        return ScoreBlock(image: image, text: text, rows: rows ?? 0..<image.shape[0])
    }
}
