// The maths of "how likely a result is a match": P(match | score) at even odds from the two
// histograms, checked against densities known in closed form, monotone and inside (0, 1) for
// any counts, at the prior when true and other scores cannot be told apart, and checked on a
// second sample by the reliability table (which must also catch a calibration that is off).
import Foundation
import Testing
import Neural
@testable import Retrieval

/// Normal draws (Box–Muller) from a seeded generator, clamped to cosines.
private func normal(_ count: Int, mean: Double, sd: Double, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let u = max(Double(g.next() >> 11) / Double(1 << 53), 1e-12), v = Double(g.next() >> 11) / Double(1 << 53)
        return Float(min(1, max(-1, mean + sd * (-2 * log(u)).squareRoot() * cos(2 * .pi * v))))
    }
}

struct ScoreCalibrationTests {
    /// True pairs ~ N(0.5, 0.2), others ~ N(0.1, 0.2): log of the density ratio at s is
    /// ((s − 0.1)² − (s − 0.5)²) / (2 · 0.04) = (0.8 s − 0.24) / 0.08, so the posterior at even
    /// odds is 50% at s = 0.3 and the logistic of that around it.
    @Test func likelihoodIsThePosteriorAtEvenOdds() throws {
        let c = try #require(ScoreCalibration(matchScores: normal(20_000, mean: 0.5, sd: 0.2, seed: 1),
                                              otherScores: normal(200_000, mean: 0.1, sd: 0.2, seed: 2),
                                              pictures: 100, captions: 100))
        func truth(_ s: Double) -> Double { 1 / (1 + exp(-(0.8 * s - 0.24) / 0.08)) }
        for s in [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6] {
            #expect(abs(c.likelihood(of: Float(s)) - truth(s)) < 0.05, "at \(s): \(c.likelihood(of: Float(s))) vs \(truth(s))")
        }
        #expect(c.likelihood(of: -0.4) < 0.05 && c.likelihood(of: 1) > 0.95)
    }

    @Test func likelihoodNeverFallsAsTheScoreRisesAndStaysInsideZeroAndOne() throws {
        // Ragged, overlapping, bimodal counts: raw ratios go up and down; the estimate may not.
        var g = SeededGenerator(seed: 9)
        for _ in 0..<50 {
            let matches = (0..<ScoreCalibration.binCount).map { _ in Int(g.next() % 4 == 0 ? g.next() % 30 : 0) }
            let others = (0..<ScoreCalibration.binCount).map { _ in Int(g.next() % 200) }
            guard let c = ScoreCalibration(matches: matches, others: others, pictures: 10, captions: 10) else { continue }
            var previous = 0.0
            for s in stride(from: Float(-1), through: 1, by: 0.001) {
                let p = c.likelihood(of: s)
                #expect(p > 0 && p < 1 && p >= previous - 1e-12, "at \(s): \(p) after \(previous)")
                previous = p
            }
        }
    }

    @Test func aCollapsedModelsScoresGiveThePriorNeverNaN() throws {
        // Every pair scores the same: no score tells a true pair from another.
        let same = try #require(ScoreCalibration(matchScores: Array(repeating: 0.42, count: 50),
                                                 otherScores: Array(repeating: 0.42, count: 2_450), pictures: 50, captions: 50))
        for s: Float in [-1, 0, 0.42, 0.9, 1, .nan, .infinity, -.infinity] {
            #expect(abs(same.likelihood(of: s) - ScoreCalibration.prior) < 1e-9, "\(s): \(same.likelihood(of: s))")
        }
        // True and other scores drawn from one distribution: near the prior where the scores
        // fall; at the far ends, where a few dozen pairs decide, noise may move it further
        // (isotonic regression picks the luckiest run there), never past 25 points.
        let others = normal(40_000, mean: 0.2, sd: 0.1, seed: 4)
        let alike = try #require(ScoreCalibration(matchScores: normal(2_000, mean: 0.2, sd: 0.1, seed: 3),
                                                  otherScores: others, pictures: 200, captions: 200))
        for s in stride(from: Float(-1), through: 1, by: 0.01) {
            let p = alike.likelihood(of: s)
            #expect(!p.isNaN && abs(p - 0.5) < 0.25, "\(s): \(p)")
        }
        let typical = others.reduce(0.0) { $0 + alike.likelihood(of: $1) } / Double(others.count)
        #expect(abs(typical - 0.5) < 0.03, "\(typical)")
    }

    @Test func countsThatCannotCalibrateAreRefused() {
        let bins = ScoreCalibration.binCount
        let some = [Int](repeating: 1, count: bins), none = [Int](repeating: 0, count: bins)
        #expect(ScoreCalibration(matches: none, others: some, pictures: 1, captions: 1) == nil)
        #expect(ScoreCalibration(matches: some, others: none, pictures: 1, captions: 1) == nil)
        #expect(ScoreCalibration(matches: some, others: [1, 2], pictures: 1, captions: 1) == nil)
        #expect(ScoreCalibration(matches: some.map { -$0 }, others: some, pictures: 1, captions: 1) == nil)
        #expect(ScoreCalibration(matches: some, others: some, pictures: 0, captions: 1) == nil)
        #expect(ScoreCalibration(matchScores: [], otherScores: [0.1], pictures: 1, captions: 1) == nil)
        #expect(ScoreCalibration(matches: some, others: some, pictures: 1, captions: 1) != nil)
    }

    @Test func theReliabilityTableTellsACalibrationThatHoldsFromOneThatIsOff() throws {
        let calibration = try #require(ScoreCalibration(matchScores: normal(5_000, mean: 0.5, sd: 0.12, seed: 5),
                                                        otherScores: normal(100_000, mean: 0.1, sd: 0.12, seed: 6),
                                                        pictures: 100, captions: 100))
        // Held-out pairs from the same distributions, and from a model whose true pairs score lower.
        let held = pairs(matchMean: 0.5, seed: 7), shifted = pairs(matchMean: 0.25, seed: 8)
        let good = CalibrationReport(calibration: calibration, scores: held)
        let bad = CalibrationReport(calibration: calibration, scores: shifted)
        #expect(good.ece < 0.06, "\(good.ece)")
        #expect(bad.ece > 0.15, "\(bad.ece)")
        for bin in good.bins where bin.matches >= 30 && bin.others >= 300 {
            #expect(abs(bin.predicted! - bin.observed!) < 0.15, "\(bin)")
        }
        #expect(good.keptMatches > 0.9 && good.keptOthers < 0.1, "\(good.keptMatches) \(good.keptOthers)")
        #expect(bad.keptMatches < good.keptMatches)
        #expect(good.bins.reduce(0) { $0 + $1.matches } == held.imageOfCaption.count)
    }

    /// 400 pictures (the identity rows) and one caption each whose row is its scores: the own
    /// picture at N(matchMean, 0.12), the others at N(0.1, 0.12).
    private func pairs(matchMean: Double, seed: UInt64) -> PairScores {
        let n = 400
        var scores = normal(n * n, mean: 0.1, sd: 0.12, seed: seed)
        let own = normal(n, mean: matchMean, sd: 0.12, seed: seed ^ 0xFF)
        for i in 0..<n { scores[i * n + i] = own[i] }
        var identity = [Float](repeating: 0, count: n * n)
        for i in 0..<n { identity[i * n + i] = 1 }
        return PairScores(images: Tensor(shape: [n, n], data: identity), captions: Tensor(shape: [n, n], data: scores),
                          imageOfCaption: Array(0..<n), texts: (0..<n).map { "caption \($0)" })
    }

    @Test func identicalCaptionsOfOtherPicturesAreNeitherTrueNorOther() {
        // Pictures 0 and 1 share the caption "red"; picture 2 has "blue".
        let images = Tensor(shape: [3, 2], data: [1, 0, 0.8, 0.6, 0, 1])
        let captions = Tensor(shape: [3, 2], data: [1, 0, 1, 0, 0, 1])
        let scores = PairScores(images: images, captions: captions, imageOfCaption: [0, 1, 2], texts: ["red", "red", "blue"])
        var seen: [(Float, Bool)] = []
        scores.forEachPair { seen.append(($0, $1)) }
        // Caption 0 ("red" of picture 0) skips picture 1, caption 1 skips picture 0: 3 + 2 × 2 − … pairs.
        #expect(seen.count == 7)
        #expect(seen.filter(\.1).count == 3)
        #expect(seen.filter { !$0.1 }.map(\.0).sorted() == [0, 0, 0, 0.6])
    }
}
