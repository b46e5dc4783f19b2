import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

struct RecallEvaluatorTests {
    /// Three images on the axes; captions placed so their ranks are known by hand.
    @Test func ranksMatchHandComputation() {
        let images = Tensor(shape: [3, 3], data: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let captions = Tensor(shape: [4, 3], data: [
            0.9, 0.1, 0,    // caption of image 0: ranks it first
            0.8, 0.2, 0,    // caption of image 1: image 1 second (0.2 < 0.8)
            0, 0.1, 0.9,    // caption of image 2: first
            0.1, 0.1, 0.5,  // second caption of image 0: image 2 ahead (0.5), image 1 tied (0.1): rank 2.5
        ])
        let report = RecallEvaluator.evaluate(images: images, captions: captions, imageOfCaption: [0, 1, 2, 0],
                                              blockSize: 3)
        // t2i ranks: 1, 2, 1, 2.5 (a hit at 1 for none of the last, at 5 for all)
        #expect(report.textToImage.r1 == 50)
        #expect(report.textToImage.r5 == 100)
        #expect(report.textToImage.medianRank == 1.5)
        // i2t: image 0's best own caption scores 0.9 → rank 1; image 1's caption scores 0.2, captions
        // 0 (0.1) and 2 (0.1) and 3 (0.1) score lower → rank 1; image 2 best 0.9, caption 3 0.5 → rank 1.
        #expect(report.imageToText.r1 == 100)
        #expect(report.images == 3 && report.captions == 4)
    }

    @Test func tiesCountAsIfInRandomOrder() {
        // A collapsed model: every caption and image the same vector. Every rival ties, so
        // recall is chance (k/n), never 100% as it would be with ties in the query's favour.
        let n = 20
        let same = Tensor(shape: [n, 2], data: (0..<n).flatMap { _ in [Float(0.6), 0.8] })
        let collapsed = RecallEvaluator.evaluate(images: same, captions: same, imageOfCaption: Array(0..<n))
        for direction in [collapsed.textToImage, collapsed.imageToText] {
            #expect(abs(direction.r1 - 100.0 / Double(n)) < 1e-9)
            #expect(abs(direction.r5 - 500.0 / Double(n)) < 1e-9)
            #expect(direction.medianRank == 10.5)
        }
        // Two images whose captions encode the same: image→text finds the pair first but cannot
        // tell which caption is whose, so each image gets half a hit at 1 and a whole one at 5.
        let images = Tensor(shape: [3, 2], data: [1, 0, 0.96, 0.28, 0, 1])
        let captions = Tensor(shape: [3, 2], data: [1, 0, 1, 0, 0, 1])
        let report = RecallEvaluator.evaluate(images: images, captions: captions, imageOfCaption: [0, 1, 2])
        #expect(abs(report.imageToText.r1 - 100.0 * (0.5 + 0.5 + 1) / 3) < 1e-9)
        #expect(report.imageToText.r5 == 100)
        // Text→image has no ties here: the shared caption ranks image 0 above image 1.
        #expect(abs(report.textToImage.r1 - 100.0 * 2 / 3) < 1e-9)
    }

    @Test func randomEmbeddingsScoreNearChance() {
        var rng = SeededGenerator(seed: 5)
        let n = 200
        let images = normalizedRows(Tensor(randomNormal: [n, 16], std: 1, using: &rng))
        let captions = normalizedRows(Tensor(randomNormal: [n, 16], std: 1, using: &rng))
        let report = RecallEvaluator.evaluate(images: images, captions: captions, imageOfCaption: Array(0..<n),
                                              blockSize: 37)
        #expect(report.textToImage.r10 < 15)  // chance is 5%
        #expect(report.textToImage.medianRank > 50)
        let perfect = RecallEvaluator.evaluate(images: images, captions: images, imageOfCaption: Array(0..<n))
        #expect(perfect.textToImage.r1 == 100 && perfect.imageToText.r1 == 100)
    }
}

private func normalizedRows(_ t: Tensor) -> Tensor {
    var out = t
    let d = t.columns
    for i in 0..<t.rows {
        let norm = (0..<d).reduce(Float(0)) { $0 + t.data[i * d + $1] * t.data[i * d + $1] }.squareRoot()
        for k in 0..<d { out[i * d + k] /= norm }
    }
    return out
}
