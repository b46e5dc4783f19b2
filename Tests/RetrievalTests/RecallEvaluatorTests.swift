import Testing
import Neural
@testable import Retrieval

struct RecallEvaluatorTests {
    /// Three images on the axes; captions placed so their ranks are known by hand.
    @Test func ranksMatchHandComputation() {
        let images = Tensor(shape: [3, 3], data: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let captions = Tensor(shape: [4, 3], data: [
            0.9, 0.1, 0,    // caption of image 0: ranks it first
            0.8, 0.2, 0,    // caption of image 1: image 1 second (0.2 < 0.8)
            0, 0.1, 0.9,    // caption of image 2: first
            0.1, 0.1, 0.5,  // second caption of image 0: image 0 ranks third (0.1 = 0.1 tie counts ahead, 0.5)
        ])
        let report = RecallEvaluator.evaluate(images: images, captions: captions, imageOfCaption: [0, 1, 2, 0],
                                              blockSize: 3)
        // t2i ranks: 1, 2, 1, 3
        #expect(report.textToImage.r1 == 50)
        #expect(report.textToImage.r5 == 100)
        #expect(report.textToImage.medianRank == 1.5)
        // i2t: image 0's best own caption scores 0.9 → rank 1; image 1's caption scores 0.2, captions
        // 0 (0.1) and 2 (0.1) and 3 (0.1) score lower → rank 1; image 2 best 0.9, caption 3 0.5 → rank 1.
        #expect(report.imageToText.r1 == 100)
        #expect(report.images == 3 && report.captions == 4)
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
        for k in 0..<d { out.data[i * d + k] /= norm }
    }
    return out
}
