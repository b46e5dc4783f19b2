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
    /// How far text→image ranking stands above a random one: 1 − 2 × the mean share of rival
    /// pictures ranked above each caption's own (a tie counts half), averaged per picture.
    /// 0 at chance, 1 when every caption finds its picture first. Nil in reports of older files.
    public var rankScore: Double?
    /// The recall a random ranking gets for these candidates: the tie rule on all-equal scores.
    public var chance: ChanceRecall?

    /// Recall of a random ranking, by direction.
    public struct ChanceRecall: Codable, Sendable, Equatable {
        public var textToImage: DirectionalRecall
        public var imageToText: DirectionalRecall

        enum CodingKeys: String, CodingKey { case textToImage = "t2i", imageToText = "i2t" }
    }

    enum CodingKeys: String, CodingKey {
        case textToImage = "t2i", imageToText = "i2t", images, captions, rankScore = "rank_score", chance
    }

    public init(textToImage: DirectionalRecall, imageToText: DirectionalRecall, images: Int, captions: Int,
                rankScore: Double? = nil, chance: ChanceRecall? = nil) {
        self.textToImage = textToImage
        self.imageToText = imageToText
        self.images = images
        self.captions = captions
        self.rankScore = rankScore
        self.chance = chance
    }

    /// The standard error of `rankScore` under a random ranking, 1/√(3n) for n pictures (each
    /// picture's share is at most as spread as one uniform draw, variance 1/12).
    public var rankScoreStandardError: Double { 1 / (3 * Double(max(1, images))).squareRoot() }

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
        forEachCaptionScores(captions: captions, images: images, blockSize: blockSize) { c, row in
            let truth = imageOfCaption[c], own = row[truth]
            ownScores[c] = own
            var ahead = 0, tied = 0
            for i in 0..<n where i != truth {
                if row[i] > own { ahead += 1 } else if row[i] == own { tied += 1 }
            }
            textStandings[c] = (ahead, tied)
        }
        // Image→text: for image i, how many captions of other images score at least its best own caption.
        var bestOwn = [Float](repeating: -.infinity, count: n)
        for c in 0..<m { bestOwn[imageOfCaption[c]] = max(bestOwn[imageOfCaption[c]], ownScores[c]) }
        var ahead = [Int](repeating: 0, count: n), tied = [Int](repeating: 0, count: n)
        forEachCaptionScores(captions: captions, images: images, blockSize: blockSize) { c, row in
            let truth = imageOfCaption[c]
            for i in 0..<n where i != truth {
                if row[i] > bestOwn[i] { ahead[i] += 1 } else if row[i] == bestOwn[i] { tied[i] += 1 }
            }
        }
        let ranked = (0..<n).filter { bestOwn[$0] > -.infinity }
        let imageStandings = ranked.map { (ahead: ahead[$0], tied: tied[$0]) }
        // A random ranking: every rival tied with the truth.
        var captionsOf = [Int](repeating: 0, count: n)
        for c in 0..<m { captionsOf[imageOfCaption[c]] += 1 }
        let chance = RecallReport.ChanceRecall(
            textToImage: DirectionalRecall(standings: textStandings.map { _ in (0, n - 1) }),
            imageToText: DirectionalRecall(standings: ranked.map { (0, m - captionsOf[$0]) }))
        return RecallReport(textToImage: DirectionalRecall(standings: textStandings),
                            imageToText: DirectionalRecall(standings: imageStandings),
                            images: n, captions: m,
                            rankScore: rankScore(textStandings, imageOfCaption: imageOfCaption, images: n),
                            chance: chance)
    }

    /// 1 − 2 × the mean, over pictures, of the mean share of rivals ahead of the truth over
    /// each picture's captions (ties count half); nil with fewer than two pictures.
    private static func rankScore(_ standings: [(ahead: Int, tied: Int)], imageOfCaption: [Int], images n: Int) -> Double? {
        guard n > 1 else { return nil }
        var share = [Double](repeating: 0, count: n), count = [Int](repeating: 0, count: n)
        for (c, s) in standings.enumerated() {
            share[imageOfCaption[c]] += (Double(s.ahead) + Double(s.tied) / 2) / Double(n - 1)
            count[imageOfCaption[c]] += 1
        }
        let perImage = (0..<n).filter { count[$0] > 0 }.map { share[$0] / Double(count[$0]) }
        guard !perImage.isEmpty else { return nil }
        return 1 - 2 * perImage.reduce(0, +) / Double(perImage.count)
    }
}
