// Recall@K and median rank, text→image and image→text, from two embedding matrices and the
// ground truth (each caption's image). Scores come from GEMM in blocks of captions, so
// evaluating thousands of images needs no B² memory.
import Foundation
import Neural

/// Recall@1/5/10 (percent) and median rank (1 = first) for one direction.
public struct DirectionalRecall: Codable, Sendable, Equatable {
    public var r1: Double
    public var r5: Double
    public var r10: Double
    public var medianRank: Double

    enum CodingKeys: String, CodingKey {
        case r1 = "R@1", r5 = "R@5", r10 = "R@10", medianRank = "medr"
    }

    init(ranks: [Int]) {
        func recall(_ k: Int) -> Double {
            ranks.isEmpty ? 0 : 100 * Double(ranks.filter { $0 <= k }.count) / Double(ranks.count)
        }
        r1 = recall(1); r5 = recall(5); r10 = recall(10)
        let sorted = ranks.sorted()
        if sorted.isEmpty {
            medianRank = 0
        } else if sorted.count % 2 == 1 {
            medianRank = Double(sorted[sorted.count / 2])
        } else {
            medianRank = Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }
}

/// Both directions plus the sizes, in the JSON shape `retrieve eval --json` prints.
public struct RecallReport: Codable, Sendable, Equatable {
    public var textToImage: DirectionalRecall
    public var imageToText: DirectionalRecall
    public var images: Int
    public var captions: Int

    enum CodingKeys: String, CodingKey {
        case textToImage = "t2i", imageToText = "i2t", images, captions
    }

    /// Mean of the six recalls: one number to pick the best checkpoint by.
    public var meanRecall: Double {
        (textToImage.r1 + textToImage.r5 + textToImage.r10 + imageToText.r1 + imageToText.r5 + imageToText.r10) / 6
    }
}

public enum RecallEvaluator {
    /// Ranks every caption's image among all images (text→image) and, for every image, the
    /// best-ranked of its captions among all captions (image→text). Rows are L2-normalised
    /// embeddings; `imageOfCaption[c]` is the row of caption c's image. Ties count against us:
    /// a rival with an equal score ranks ahead.
    public static func evaluate(images: Tensor, captions: Tensor, imageOfCaption: [Int],
                                blockSize: Int = 1024) -> RecallReport {
        let n = images.shape[0], m = captions.shape[0]
        precondition(imageOfCaption.count == m, "\(m) captions but \(imageOfCaption.count) ground-truth entries")
        precondition(images.rank == 2 && captions.rank == 2 && images.shape[1] == captions.shape[1],
                     "embeddings must be (N, D) and (M, D), got \(images.shape) and \(captions.shape)")
        var textRanks = [Int](repeating: 0, count: m)
        var imageRanks = [Int](repeating: Int.max, count: n)
        // The score of each caption with its own image, for the image→text pass.
        var ownScores = [Float](repeating: 0, count: m)
        let d = images.shape[1]
        var start = 0
        while start < m {
            let count = min(blockSize, m - start)
            let block = Tensor(shape: [count, d], data: Array(captions.data[(start * d)..<((start + count) * d)]))
            let scores = matmul(block, images, transposeB: true)  // (count, n)
            scores.withUnsafeBufferPointer { s in
                for c in 0..<count {
                    let truth = imageOfCaption[start + c]
                    let row = s.baseAddress! + c * n
                    let own = row[truth]
                    ownScores[start + c] = own
                    var ahead = 0
                    for i in 0..<n where i != truth && row[i] >= own { ahead += 1 }
                    textRanks[start + c] = ahead + 1
                }
            }
            start += count
        }
        // Image→text: for image i, how many captions of other images score at least its best own caption.
        var bestOwn = [Float](repeating: -.infinity, count: n)
        for c in 0..<m { bestOwn[imageOfCaption[c]] = max(bestOwn[imageOfCaption[c]], ownScores[c]) }
        start = 0
        var ahead = [Int](repeating: 0, count: n)
        while start < m {
            let count = min(blockSize, m - start)
            let block = Tensor(shape: [count, d], data: Array(captions.data[(start * d)..<((start + count) * d)]))
            let scores = matmul(block, images, transposeB: true)
            scores.withUnsafeBufferPointer { s in
                for c in 0..<count {
                    let truth = imageOfCaption[start + c]
                    let row = s.baseAddress! + c * n
                    for i in 0..<n where i != truth && row[i] >= bestOwn[i] { ahead[i] += 1 }
                }
            }
            start += count
        }
        for i in 0..<n where bestOwn[i] > -.infinity { imageRanks[i] = ahead[i] + 1 }
        return RecallReport(textToImage: DirectionalRecall(ranks: textRanks),
                            imageToText: DirectionalRecall(ranks: imageRanks.filter { $0 != Int.max }),
                            images: n, captions: m)
    }
}
