// The symmetric N-pair (InfoNCE) loss over cosine similarities with a learnable temperature,
// and its exact gradient. Pairs that share an image or a caption are not negatives: they are
// masked out of every denominator. Log-sum-exp keeps any logit value finite.
import Foundation
import Neural

/// What one loss evaluation hands back: the value, the gradients for both embedding batches
/// and the log-temperature, and the cosine matrix the collapse monitor reads.
public struct LossResult {
    public var loss: Float
    /// (B, B) cosine similarities, row = image, column = text.
    public var similarity: Tensor
    public var gradImage: Tensor
    public var gradText: Tensor
    /// d loss / d s, where the logits are exp(s)·cos.
    public var gradLogScale: Float
    /// d loss / d b for the sigmoid loss's logit bias (0 for the other losses).
    public var gradLogitBias: Float = 0
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
    /// averaged. `image` and `text` are (B, D) and already L2-normalised.
    public static func nPair(image: Tensor, text: Tensor, logScale s: Float, mask: DuplicateMask? = nil) -> LossResult {
        let (b, d) = checkShapes(image, text, mask)
        var similarity = matmul(image, text, transposeB: true)
        let scale = Float(exp(Double(s)))
        var gradLogits = Tensor(zeros: [b, b])
        var total = 0.0
        similarity.withUnsafeMutableBufferPointer { sim in
            gradLogits.withUnsafeMutableBufferPointer { g in
                let excluded = mask?.excluded
                // Rows: image i against every text j; then columns: text j against every image i.
                for pass in 0..<2 {
                    let rowStride = pass == 0 ? b : 1, colStride = pass == 0 ? 1 : b
                    for i in 0..<b {
                        var maxLogit = -Float.infinity
                        for j in 0..<b {
                            let at = i * rowStride + j * colStride
                            if excluded?[at] == true { continue }
                            maxLogit = max(maxLogit, scale * sim[at])
                        }
                        var sum = 0.0
                        for j in 0..<b {
                            let at = i * rowStride + j * colStride
                            if excluded?[at] == true { continue }
                            sum += exp(Double(scale * sim[at] - maxLogit))
                        }
                        let logSum = Double(maxLogit) + log(sum)
                        let diagonal = i * rowStride + i * colStride
                        total += logSum - Double(scale * sim[diagonal])
                        for j in 0..<b {
                            let at = i * rowStride + j * colStride
                            if excluded?[at] == true { continue }
                            let p = exp(Double(scale * sim[at]) - logSum)
                            g[at] += Float((p - (j == i ? 1 : 0)) / Double(2 * b))
                        }
                    }
                }
            }
        }
        // d loss / d s = Σ g_ij · exp(s) · S_ij; the embeddings see exp(s)·g.
        var gradLogScale = 0.0
        for k in 0..<(b * b) { gradLogScale += Double(gradLogits.data[k]) * Double(similarity.data[k]) }
        gradLogScale *= Double(scale)
        var gradCos = gradLogits
        gradCos.withUnsafeMutableBufferPointer { g in for k in 0..<g.count { g[k] *= scale } }
        let (gradImage, gradText) = backThroughSimilarity(gradCos, image: image, text: text, dimension: d)
        return LossResult(loss: Float(total / Double(2 * b)), similarity: similarity,
                          gradImage: gradImage, gradText: gradText, gradLogScale: Float(gradLogScale))
    }

    /// VSE++'s max of hinges: for each positive pair, the hardest negative in its row and in its
    /// column must score at least `margin` below it. Scores are the raw products I·Tᵀ (cosines
    /// when the towers normalise); the temperature takes no part.
    public static func hardestNegativeHinge(image: Tensor, text: Tensor, margin: Float = 0.2,
                                            mask: DuplicateMask? = nil) -> LossResult {
        let (b, d) = checkShapes(image, text, mask)
        let similarity = matmul(image, text, transposeB: true)
        var grad = Tensor(zeros: [b, b])
        var total = 0.0
        let excluded = mask?.excluded
        for pass in 0..<2 {
            let rowStride = pass == 0 ? b : 1, colStride = pass == 0 ? 1 : b
            for i in 0..<b {
                let diagonal = i * rowStride + i * colStride
                var hardest = -1, hardestScore = -Float.infinity
                for j in 0..<b where j != i {
                    let at = i * rowStride + j * colStride
                    if excluded?[at] == true { continue }
                    if similarity.data[at] > hardestScore { hardestScore = similarity.data[at]; hardest = at }
                }
                guard hardest >= 0 else { continue }
                let violation = margin - similarity.data[diagonal] + hardestScore
                if violation > 0 {
                    total += Double(violation)
                    grad[hardest] += 1 / Float(b)
                    grad[diagonal] -= 1 / Float(b)
                }
            }
        }
        let (gradImage, gradText) = backThroughSimilarity(grad, image: image, text: text, dimension: d)
        return LossResult(loss: Float(total / Double(b)), similarity: similarity,
                          gradImage: gradImage, gradText: gradText, gradLogScale: 0)
    }

    /// SigLIP's pairwise sigmoid loss: every pair (i, j) is its own binary problem, logit
    /// z = exp(s)·cos + b, label +1 on the diagonal and −1 elsewhere, and the loss is
    /// −(1/B) Σ log σ(y·z) = (1/B) Σ softplus(−y·z), summed over every unmasked pair (rows and
    /// columns are the same pairs, so there is no second direction). softplus(x) =
    /// max(x, 0) + log1p(exp(−|x|)) and σ are evaluated so that no logit gives log(0), exp
    /// overflow or a NaN gradient.
    public static func sigmoid(image: Tensor, text: Tensor, logScale s: Float, bias: Float,
                               mask: DuplicateMask? = nil) -> LossResult {
        let (b, d) = checkShapes(image, text, mask)
        let similarity = matmul(image, text, transposeB: true)
        let scale = exp(Double(s))
        var gradLogits = Tensor(zeros: [b, b])
        var total = 0.0, gradScale = 0.0, gradBias = 0.0
        let excluded = mask?.excluded
        let inverseB = 1 / Double(b)
        similarity.withUnsafeBufferPointer { sim in
            gradLogits.withUnsafeMutableBufferPointer { g in
                for i in 0..<b {
                    for j in 0..<b {
                        let at = i * b + j
                        if excluded?[at] == true { continue }
                        let y: Double = i == j ? 1 : -1
                        let z = scale * Double(sim[at]) + Double(bias)
                        total += softplus(-y * z)
                        // d softplus(−y z)/dz = −y σ(−y z)
                        let dz = -y * logistic(-y * z) * inverseB
                        g[at] = Float(dz * scale)
                        gradScale += dz * scale * Double(sim[at])
                        gradBias += dz
                    }
                }
            }
        }
        let (gradImage, gradText) = backThroughSimilarity(gradLogits, image: image, text: text, dimension: d)
        return LossResult(loss: Float(total * inverseB), similarity: similarity, gradImage: gradImage,
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

    private static func checkShapes(_ image: Tensor, _ text: Tensor, _ mask: DuplicateMask?) -> (Int, Int) {
        precondition(image.rank == 2 && image.shape == text.shape,
                     "loss needs two (B, D) batches of one shape, got \(image.shape) and \(text.shape)")
        precondition(mask == nil || mask!.size == image.shape[0],
                     "mask is for \(mask!.size) pairs, batch has \(image.shape[0])")
        return (image.shape[0], image.shape[1])
    }

    /// S = I·Tᵀ, so dI = dS·T and dT = dSᵀ·I.
    private static func backThroughSimilarity(_ gradS: Tensor, image: Tensor, text: Tensor,
                                              dimension d: Int) -> (Tensor, Tensor) {
        (matmul(gradS, text), matmul(gradS, image, transposeA: true))
    }
}
