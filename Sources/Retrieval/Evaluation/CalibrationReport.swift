// How well a stored calibration predicts on other pictures (the test split): a reliability table
// of predicted likelihood against the share of true pairs observed, its expected calibration
// error, and how often the default cut-off keeps each caption's own picture. Pairs are weighted
// as the likelihood assumes (true and other pairs at even odds), so the table answers "of the
// pairs it called 80% likely, were 80% true at those odds?".
import Foundation

/// Predicted against observed likelihood on held-out pairs.
public struct CalibrationReport: Codable, Sendable, Equatable {
    /// One row of the reliability table: pairs whose likelihood lies in `from ..< to`.
    public struct Bin: Codable, Sendable, Equatable {
        public var from: Double
        public var to: Double
        /// Mean predicted likelihood and the observed share of true pairs, both at even odds; nil when empty.
        public var predicted: Double?
        public var observed: Double?
        public var matches: Int
        public var others: Int
    }

    public var bins: [Bin]
    /// Expected calibration error: Σ over bins of (the bin's share of the weighted pairs) × |predicted − observed|.
    public var ece: Double
    /// The threshold the cut-off applies.
    public var threshold: Double
    /// Share of captions whose own picture is at least `threshold` likely (kept by the cut-off).
    public var keptMatches: Double
    /// Share of captions whose own picture is among the first 10 results and kept by the cut-off
    /// (what `retrieve query` shows by default).
    public var keptInTop10: Double
    /// Share of other pairs at least `threshold` likely (kept though not the caption's picture).
    public var keptOthers: Double
    /// Mean number of results kept per caption out of the first 10.
    public var shownOfTop10: Double
    public var pictures: Int
    public var captions: Int

    enum CodingKeys: String, CodingKey {
        case bins, ece, threshold, pictures, captions
        case keptMatches = "kept_matches", keptInTop10 = "kept_in_top10", keptOthers = "kept_others", shownOfTop10 = "shown_of_top10"
    }

    /// Checks `calibration` against every pair of `scores`, in `binCount` equal bins of likelihood.
    public init(calibration: ScoreCalibration, scores: PairScores, binCount: Int = 10,
                threshold: Double = ScoreCalibration.likelyThreshold) {
        var counts = [(matches: Int, others: Int)](repeating: (0, 0), count: binCount)
        var predictedOf = [(matches: Double, others: Double)](repeating: (0, 0), count: binCount)
        var kept = 0, keptTop = 0, keptOthers = 0, otherPairs = 0, shown = 0
        let skippedOf = scores.alsoOwnedBy
        scores.forEachCaption { c, own, row in
            let ownP = calibration.likelihood(of: own)
            var ahead = 0
            for i in row.indices where !skippedOf[c].contains(i) {
                let p = calibration.likelihood(of: row[i])
                let b = min(binCount - 1, Int(p * Double(binCount)))
                if i == scores.imageOfCaption[c] {
                    counts[b].matches += 1
                    predictedOf[b].matches += p
                } else {
                    counts[b].others += 1
                    predictedOf[b].others += p
                    otherPairs += 1
                    if p >= threshold { keptOthers += 1 }
                    if row[i] > own { ahead += 1 }
                }
            }
            // The first 10 results by score: the truth's place, and how many of them pass.
            let top = row.indices.filter { !skippedOf[c].contains($0) }.map { row[$0] }.sorted(by: >).prefix(10)
            shown += top.filter { calibration.likelihood(of: $0) >= threshold }.count
            if ownP >= threshold {
                kept += 1
                if ahead < 10 { keptTop += 1 }
            }
        }
        let m = max(1, scores.imageOfCaption.count)
        let totalMatches = Double(max(1, counts.reduce(0) { $0 + $1.matches }))
        let totalOthers = Double(max(1, otherPairs))
        // Even odds: each true pair weighs 1/2 of 1/(true pairs), each other pair 1/2 of 1/(other pairs).
        let wm = 0.5 / totalMatches, wo = 0.5 / totalOthers
        var ece = 0.0
        bins = (0..<binCount).map { b in
            let weight = Double(counts[b].matches) * wm + Double(counts[b].others) * wo
            let observed = weight > 0 ? Double(counts[b].matches) * wm / weight : nil
            let mean = weight > 0 ? (predictedOf[b].matches * wm + predictedOf[b].others * wo) / weight : nil
            if let observed, let mean { ece += weight * abs(mean - observed) }
            return Bin(from: Double(b) / Double(binCount), to: Double(b + 1) / Double(binCount),
                       predicted: mean, observed: observed, matches: counts[b].matches, others: counts[b].others)
        }
        self.ece = ece
        self.threshold = threshold
        keptMatches = Double(kept) / Double(m)
        keptInTop10 = Double(keptTop) / Double(m)
        self.keptOthers = Double(keptOthers) / totalOthers
        shownOfTop10 = Double(shown) / Double(m)
        pictures = scores.images.shape[0]
        captions = scores.imageOfCaption.count
    }
}
