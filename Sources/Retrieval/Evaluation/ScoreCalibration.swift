// How likely a search result is a match, from the cosine score alone. Training measures, on the
// validation split, the scores of true caption–picture pairs and of every other pair and keeps
// both as histograms; this turns a score into P(match | score) at even prior odds, a monotone
// (isotonic) estimate that never reaches 0 or 1. docs/calibration.md has the definition.
import Foundation

/// The scores of true and of other caption–picture pairs on held-out pictures, and the
/// likelihood of a match they imply for any score.
public struct ScoreCalibration: Codable, Sendable, Equatable {
    /// Histogram bins over cosines −1…1.
    public static let binCount = 200
    /// The prior P(match) the likelihood assumes: even odds, so 50% is the score as typical of a
    /// true pair as of any other, whatever the size of the folder searched.
    public static let prior = 0.5
    /// Results below this likelihood are left out unless asked for: below it a score is more
    /// typical of a picture the caption was not written for than of its own.
    public static let likelyThreshold = 0.5
    /// Bounds of what a file may hold, so a hostile one can neither make reading expensive nor
    /// overflow a sum (10,000 bins of 2^40 pairs stay far below Int.max).
    static let maxBins = 10_000
    static let maxPairs = 1 << 40

    /// Counts of true-pair scores per bin (bin i covers −1 + 2i/B ..< −1 + 2(i+1)/B).
    public let matches: [Int]
    /// Counts of the other pairs' scores per bin (pairs whose caption is also one of the
    /// picture's own are neither).
    public let others: [Int]
    /// Pictures and captions of the split measured.
    public let pictures: Int
    public let captions: Int
    /// P(match | score bin), monotone; derived from the counts, not stored.
    public let table: [Double]

    enum CodingKeys: String, CodingKey { case matches, others, pictures, captions }

    /// Why these counts cannot calibrate, or nil.
    static func problem(matches: [Int], others: [Int], pictures: Int, captions: Int) -> String? {
        guard (2...maxBins).contains(matches.count), matches.count == others.count else {
            return "calibration histograms must have the same number of bins, 2 to \(maxBins) (got \(matches.count) and \(others.count))"
        }
        guard matches.allSatisfy({ (0...maxPairs).contains($0) }), others.allSatisfy({ (0...maxPairs).contains($0) }) else {
            return "calibration counts must be whole numbers from 0 to 2^40"
        }
        guard matches.reduce(0, +) > 0, others.reduce(0, +) > 0 else {
            return "calibration needs at least one true pair and one other pair"
        }
        guard (1...maxPairs).contains(pictures), (1...maxPairs).contains(captions) else {
            return "calibration pictures and captions must be positive"
        }
        return nil
    }

    /// Nil when the counts cannot calibrate (`problem`): no true pair, no other pair, mismatched bins.
    public init?(matches: [Int], others: [Int], pictures: Int, captions: Int) {
        guard Self.problem(matches: matches, others: others, pictures: pictures, captions: captions) == nil else { return nil }
        self.matches = matches
        self.others = others
        self.pictures = pictures
        self.captions = captions
        table = Self.likelihoods(matches: matches, others: others, prior: Self.prior)
    }

    /// From scores of true pairs and of other pairs; nil when either is empty.
    public init?(matchScores: [Float], otherScores: [Float], pictures: Int, captions: Int, bins: Int = binCount) {
        var m = [Int](repeating: 0, count: bins), o = [Int](repeating: 0, count: bins)
        for s in matchScores where s.isFinite { m[Self.bin(of: s, bins: bins)] += 1 }
        for s in otherScores where s.isFinite { o[Self.bin(of: s, bins: bins)] += 1 }
        self.init(matches: m, others: o, pictures: pictures, captions: captions)
    }

    /// Stored counts that decode but cannot calibrate (`problem`).
    public struct Unusable: Error, Equatable {
        public let problem: String
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let matches = try c.decode([Int].self, forKey: .matches), others = try c.decode([Int].self, forKey: .others)
        let pictures = try c.decode(Int.self, forKey: .pictures), captions = try c.decode(Int.self, forKey: .captions)
        if let problem = Self.problem(matches: matches, others: others, pictures: pictures, captions: captions) {
            throw Unusable(problem: problem)
        }
        self.init(matches: matches, others: others, pictures: pictures, captions: captions)!
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(matches, forKey: .matches)
        try c.encode(others, forKey: .others)
        try c.encode(pictures, forKey: .pictures)
        try c.encode(captions, forKey: .captions)
    }

    /// P(match | score) at even prior odds, in (0, 1), never decreasing with the score; NaN
    /// scores read as the lowest.
    public func likelihood(of score: Float) -> Double {
        table[score.isNaN ? 0 : Self.bin(of: score, bins: table.count)]
    }

    static func bin(of score: Float, bins: Int) -> Int {
        let x = (Double(min(max(score, -1), 1)) + 1) / 2 * Double(bins)
        return min(bins - 1, max(0, Int(x)))
    }

    /// Per bin: the share of true pairs among the pairs scoring there when both kinds are
    /// weighted to `prior` : 1 − `prior`, made monotone by pooling adjacent bins (isotonic
    /// regression), then each pooled run shrunk towards the prior by half a pair of each kind
    /// (so an estimate from few pairs stays away from 0 and 1), and pooled again where that
    /// shrinking broke the order. Where true and other scores fall alike (a collapsed model),
    /// every bin comes out near the prior.
    static func likelihoods(matches: [Int], others: [Int], prior: Double) -> [Double] {
        let nm = Double(matches.reduce(0, +)), no = Double(others.reduce(0, +))
        let wm = prior / nm, wo = (1 - prior) / no
        let positive = matches.map { Double($0) * wm }
        let mass = zip(matches, others).map { Double($0) * wm + Double($1) * wo }
        var runs = pooled(values: zip(positive, mass).map { $1 > 0 ? $0 / $1 : prior }, weights: mass)
        for i in runs.indices {
            let m = Double(runs[i].range.reduce(0) { $0 + matches[$1] }) + 0.5
            let o = Double(runs[i].range.reduce(0) { $0 + others[$1] }) + 0.5 * no / nm
            runs[i].value = m * wm / (m * wm + o * wo)
            runs[i].weight = m * wm + o * wo
        }
        let final = pooled(values: runs.map(\.value), weights: runs.map(\.weight))
        var table = [Double](repeating: prior, count: matches.count)
        for run in final {
            for r in run.range { for bin in runs[r].range { table[bin] = run.value } }
        }
        return table
    }

    /// Pool-adjacent-violators: the non-decreasing sequence nearest `values` in weighted squares,
    /// as runs of positions sharing one value. Runs of zero weight join their neighbour.
    static func pooled(values: [Double], weights: [Double]) -> [(range: Range<Int>, value: Double, weight: Double)] {
        var runs: [(range: Range<Int>, value: Double, weight: Double)] = []
        for i in values.indices {
            var run = (range: i..<(i + 1), value: values[i], weight: weights[i])
            while let last = runs.last, last.weight == 0 || run.weight == 0 || last.value > run.value {
                runs.removeLast()
                let w = last.weight + run.weight
                let v = w > 0 ? (last.value * last.weight + run.value * run.weight) / w : max(last.value, run.value)
                run = (last.range.lowerBound..<run.range.upperBound, v, w)
            }
            runs.append(run)
        }
        return runs
    }
}
