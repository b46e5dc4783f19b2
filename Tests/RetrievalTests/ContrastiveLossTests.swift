import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

/// The N-pair loss written plainly in Double: the reference the Float implementation must match.
private func referenceNPair(_ image: [Double], _ text: [Double], b: Int, d: Int, s: Double,
                            excluded: [Bool]?) -> Double {
    func dot(_ i: Int, _ j: Int) -> Double { (0..<d).reduce(0) { $0 + image[i * d + $1] * text[j * d + $1] } }
    var total = 0.0
    for i in 0..<b {
        var rowTerms: [Double] = [], colTerms: [Double] = []
        for j in 0..<b {
            if excluded?[i * b + j] != true { rowTerms.append(exp(s) * dot(i, j)) }
            if excluded?[j * b + i] != true { colTerms.append(exp(s) * dot(j, i)) }
        }
        for terms in [rowTerms, colTerms] {
            let m = terms.max()!
            total += m + log(terms.reduce(0) { $0 + exp($1 - m) }) - exp(s) * dot(i, i)
        }
    }
    return total / Double(2 * b)
}

/// The sigmoid loss written plainly in Double (log σ through log1p, fine for the test's logits).
private func referenceSigmoid(_ image: [Double], _ text: [Double], b: Int, d: Int, s: Double, bias: Double,
                              excluded: [Bool]?) -> Double {
    func dot(_ i: Int, _ j: Int) -> Double { (0..<d).reduce(0) { $0 + image[i * d + $1] * text[j * d + $1] } }
    var total = 0.0
    for i in 0..<b {
        for j in 0..<b where excluded?[i * b + j] != true {
            let y: Double = i == j ? 1 : -1
            let z = exp(s) * dot(i, j) + bias
            total += log1p(exp(-y * z))  // −log σ(y z)
        }
    }
    return total / Double(b)
}

private func randomBatch(_ b: Int, _ d: Int, seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor(randomNormal: [b, d], std: 1, using: &rng)
}

struct ContrastiveLossTests {
    @Test(arguments: [false, true])
    func lossAndGradientsMatchDoubleReference(masked: Bool) {
        let b = 5, d = 7, s: Float = 1.3
        let image = randomBatch(b, d, seed: 1), text = randomBatch(b, d, seed: 2)
        let mask = masked ? DuplicateMask(imageKeys: [0, 1, 0, 2, 3], captionKeys: [0, 1, 2, 3, 1]) : nil
        let result = ContrastiveLoss.nPair(image: image, text: text, logScale: s, mask: mask)
        let img = image.data.map(Double.init), txt = text.data.map(Double.init)
        let reference = referenceNPair(img, txt, b: b, d: d, s: Double(s), excluded: mask?.excluded)
        #expect(abs(Double(result.loss) - reference) < 1e-5 * max(1, abs(reference)))

        let h = 1e-5
        func numeric(_ perturb: (inout [Double], inout [Double], inout Double, Double) -> Void) -> Double {
            var (a, t, sc) = (img, txt, Double(s)); perturb(&a, &t, &sc, h)
            var (a2, t2, sc2) = (img, txt, Double(s)); perturb(&a2, &t2, &sc2, -h)
            return (referenceNPair(a, t, b: b, d: d, s: sc, excluded: mask?.excluded)
                  - referenceNPair(a2, t2, b: b, d: d, s: sc2, excluded: mask?.excluded)) / (2 * h)
        }
        for k in 0..<(b * d) {
            let gi = numeric { a, _, _, e in a[k] += e }
            let gt = numeric { _, t, _, e in t[k] += e }
            #expect(abs(Double(result.gradImage.data[k]) - gi) < 1e-4, "image grad \(k)")
            #expect(abs(Double(result.gradText.data[k]) - gt) < 1e-4, "text grad \(k)")
        }
        let gs = numeric { _, _, sc, e in sc += e }
        #expect(abs(Double(result.gradLogScale) - gs) < 1e-4, "temperature grad")
    }

    @Test(arguments: [1e4, -1e4] as [Float])
    func finiteAtExtremeLogits(cosine: Float) {
        // logits = exp(s)·cos reach ±1e4: the loss and every gradient stay finite.
        let b = 4, d = 3
        var image = Tensor(zeros: [b, d]), text = Tensor(zeros: [b, d])
        for i in 0..<b { image[i * d] = 1; text[i * d] = i == 0 ? 1 : -1 }
        let result = ContrastiveLoss.nPair(image: image, text: text, logScale: log(abs(cosine)) , mask: nil)
        #expect(result.loss.isFinite)
        #expect(result.gradImage.isFinite && result.gradText.isFinite && result.gradLogScale.isFinite)
    }

    @Test func allEqualSimilaritiesGiveLogBatchSize() {
        // The exact signature of collapse that the monitor looks for.
        let b = 16
        let image = Tensor(shape: [b, 2], data: (0..<b).flatMap { _ in [1, 0] as [Float] })
        let result = ContrastiveLoss.nPair(image: image, text: image, logScale: 2)
        #expect(abs(Double(result.loss) - log(Double(b))) < 1e-5)
    }

    @Test func duplicatesAreNotNegatives() {
        // Two pairs with one caption: without the mask they push each other away; with it, the
        // loss of a perfect match is near zero.
        var image = Tensor(zeros: [3, 3])
        for i in 0..<3 { image[i * 3 + min(i, 1)] = 1 }  // rows 1 and 2 identical
        let unmasked = ContrastiveLoss.nPair(image: image, text: image, logScale: log(100))
        let masked = ContrastiveLoss.nPair(image: image, text: image, logScale: log(100),
                                           mask: DuplicateMask(imageKeys: [0, 1, 2], captionKeys: [0, 1, 1]))
        #expect(unmasked.loss > 0.4)
        #expect(masked.loss < 1e-3)
    }

    @Test(arguments: [false, true])
    func sigmoidLossAndGradientsMatchDoubleReference(masked: Bool) {
        let b = 5, d = 7, s: Float = 1.1, bias: Float = -2.5
        let image = randomBatch(b, d, seed: 3), text = randomBatch(b, d, seed: 4)
        let mask = masked ? DuplicateMask(imageKeys: [0, 1, 0, 2, 3], captionKeys: [0, 1, 2, 3, 1]) : nil
        let result = ContrastiveLoss.sigmoid(image: image, text: text, logScale: s, bias: bias, mask: mask)
        let img = image.data.map(Double.init), txt = text.data.map(Double.init)
        func loss(_ a: [Double], _ t: [Double], _ sc: Double, _ bi: Double) -> Double {
            referenceSigmoid(a, t, b: b, d: d, s: sc, bias: bi, excluded: mask?.excluded)
        }
        let reference = loss(img, txt, Double(s), Double(bias))
        #expect(abs(Double(result.loss) - reference) < 1e-5 * max(1, abs(reference)))

        let h = 1e-5
        func numeric(_ perturb: (inout [Double], inout [Double], inout Double, inout Double, Double) -> Void) -> Double {
            var (a, t, sc, bi) = (img, txt, Double(s), Double(bias)); perturb(&a, &t, &sc, &bi, h)
            var (a2, t2, sc2, bi2) = (img, txt, Double(s), Double(bias)); perturb(&a2, &t2, &sc2, &bi2, -h)
            return (loss(a, t, sc, bi) - loss(a2, t2, sc2, bi2)) / (2 * h)
        }
        for k in 0..<(b * d) {
            let gi = numeric { a, _, _, _, e in a[k] += e }
            let gt = numeric { _, t, _, _, e in t[k] += e }
            #expect(abs(Double(result.gradImage.data[k]) - gi) < 1e-4, "image grad \(k)")
            #expect(abs(Double(result.gradText.data[k]) - gt) < 1e-4, "text grad \(k)")
        }
        #expect(abs(Double(result.gradLogScale) - numeric { _, _, sc, _, e in sc += e }) < 1e-4, "temperature grad")
        #expect(abs(Double(result.gradLogitBias) - numeric { _, _, _, bi, e in bi += e }) < 1e-4, "bias grad")
    }

    @Test(arguments: [(1e4, 0), (-1e4, 0), (1, 1e4), (1, -1e4), (1e4, -1e4)] as [(Float, Float)])
    func sigmoidFiniteAtExtremeLogits(cosine: Float, bias: Float) {
        // Logits exp(s)·cos + b at ±1e4 in every combination: log σ never becomes log(0), and the
        // loss grows linearly with how wrong the logit is, as softplus does.
        let b = 4, d = 3
        var image = Tensor(zeros: [b, d]), text = Tensor(zeros: [b, d])
        for i in 0..<b { image[i * d] = 1; text[i * d] = i == 0 ? 1 : -1 }
        let result = ContrastiveLoss.sigmoid(image: image, text: text, logScale: log(abs(cosine)),
                                             bias: bias, mask: nil)
        #expect(result.loss.isFinite && result.loss >= 0)
        #expect(result.gradImage.isFinite && result.gradText.isFinite)
        #expect(result.gradLogScale.isFinite && result.gradLogitBias.isFinite)
        // Each pair's gradient on its logit is σ(·)/B: never above 1/B in size.
        #expect(abs(result.gradLogitBias) <= Float(b * b) / Float(b) + 1e-5)
    }

    @Test func sigmoidSoftplusIsExactWhereNaiveFormulasFail() {
        #expect(ContrastiveLoss.softplus(1000) == 1000)          // log(1 + e¹⁰⁰⁰) overflows naively
        #expect(ContrastiveLoss.softplus(-1000) == 0)            // and log(1 + e⁻¹⁰⁰⁰) is exactly 0
        #expect(abs(ContrastiveLoss.softplus(0) - log(2)) < 1e-15)
        #expect(ContrastiveLoss.logistic(-1000) == 0 && ContrastiveLoss.logistic(1000) == 1)
    }

    @Test func sigmoidAllEqualScoresGiveTheFlatLoss() {
        // The value the monitor calls pinned for the sigmoid loss: every pair at one logit.
        let b = 16
        let image = Tensor(shape: [b, 2], data: (0..<b).flatMap { _ in [1, 0] as [Float] })
        let result = ContrastiveLoss.sigmoid(image: image, text: image, logScale: 2, bias: -5)
        let z = exp(2.0) - 5
        let flat = ContrastiveLoss.sigmoidFlatLoss(batch: b, negatives: b * (b - 1), logit: z)
        #expect(abs(Double(result.loss) - flat) < 1e-5 * flat)
        let figures = CollapseFigures(step: 1, loss: result.loss, similarity: result.similarity, image: image,
                                      text: image, logScale: 2, gradientNorms: [:], logitBias: -5)
        #expect(abs(figures.chanceLoss - flat) < 1e-9 * flat)
    }

    @Test func hingeMatchesHandComputation() {
        let image = Tensor(shape: [2, 2], data: [1, 0, 0, 1])
        let text = Tensor(shape: [2, 2], data: [0.9, 0.1, 0.8, 0.2])
        // S = [[0.9, 0.8], [0.1, 0.2]]; margin 0.2.
        // rows: 0.2-0.9+0.8 = 0.1 ; 0.2-0.2+0.1 = 0.1 ; cols: 0.2-0.9+0.1 < 0 ; 0.2-0.2+0.8 = 0.8
        let result = ContrastiveLoss.hardestNegativeHinge(image: image, text: text, margin: 0.2)
        #expect(abs(result.loss - 1.0 / 2) < 1e-6)
        #expect(result.gradLogScale == 0)
    }
}
