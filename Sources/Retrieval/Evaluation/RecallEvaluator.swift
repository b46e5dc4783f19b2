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

    /// Each query's standing: `ahead` rivals score higher than the truth, `tied` score the same.
    /// Tied candidates count as if put in random order: a query with a rivals ahead and t tied
    /// scores (k − a)/(t + 1) of a hit at k (clamped to 0…1), and its rank is a + 1 + t/2. So a
    /// collapsed model whose scores are all equal gets chance recall, not 100% (ties in the
    /// query's favour) or 0% (ties against it), and captions that encode the same (unknown words
    /// become one token) neither help nor hurt image→text.
    init(standings: [(ahead: Int, tied: Int)]) {
        func recall(_ k: Int) -> Double {
            guard !standings.isEmpty else { return 0 }
            let hits = standings.reduce(0.0) { sum, q in sum + min(1, max(0, Double(k - q.ahead) / Double(q.tied + 1))) }
            return 100 * hits / Double(standings.count)
        }
        r1 = recall(1); r5 = recall(5); r10 = recall(10)
        let sorted = standings.map { Double($0.ahead) + 1 + Double($0.tied) / 2 }.sorted()
        if sorted.isEmpty {
            medianRank = 0
        } else if sorted.count % 2 == 1 {
            medianRank = sorted[sorted.count / 2]
        } else {
            medianRank = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
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
    /// embeddings; `imageOfCaption[c]` is the row of caption c's image. Rivals with a score equal
    /// to the truth's are tied (see `DirectionalRecall.init(standings:)`).
    public static func evaluate(images: Tensor, captions: Tensor, imageOfCaption: [Int],
                                blockSize: Int = 1024) -> RecallReport {
        let n = images.shape[0], m = captions.shape[0]
        precondition(imageOfCaption.count == m, "\(m) captions but \(imageOfCaption.count) ground-truth entries")
        precondition(images.rank == 2 && captions.rank == 2 && images.shape[1] == captions.shape[1],
                     "embeddings must be (N, D) and (M, D), got \(images.shape) and \(captions.shape)")
        var textStandings = [(ahead: Int, tied: Int)](repeating: (0, 0), count: m)
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
                    var ahead = 0, tied = 0
                    for i in 0..<n where i != truth {
                        if row[i] > own { ahead += 1 } else if row[i] == own { tied += 1 }
                    }
                    textStandings[start + c] = (ahead, tied)
                }
            }
            start += count
        }
        // Image→text: for image i, how many captions of other images score at least its best own caption.
        var bestOwn = [Float](repeating: -.infinity, count: n)
        for c in 0..<m { bestOwn[imageOfCaption[c]] = max(bestOwn[imageOfCaption[c]], ownScores[c]) }
        start = 0
        var ahead = [Int](repeating: 0, count: n), tied = [Int](repeating: 0, count: n)
        while start < m {
            let count = min(blockSize, m - start)
            let block = Tensor(shape: [count, d], data: Array(captions.data[(start * d)..<((start + count) * d)]))
            let scores = matmul(block, images, transposeB: true)
            scores.withUnsafeBufferPointer { s in
                for c in 0..<count {
                    let truth = imageOfCaption[start + c]
                    let row = s.baseAddress! + c * n
                    for i in 0..<n where i != truth {
                        if row[i] > bestOwn[i] { ahead[i] += 1 } else if row[i] == bestOwn[i] { tied[i] += 1 }
                    }
                }
            }
            start += count
        }
        let imageStandings = (0..<n).filter { bestOwn[$0] > -.infinity }.map { (ahead: ahead[$0], tied: tied[$0]) }
        return RecallReport(textToImage: DirectionalRecall(standings: textStandings),
                            imageToText: DirectionalRecall(standings: imageStandings),
                            images: n, captions: m)
    }
}
