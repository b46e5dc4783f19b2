import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

/// Builds one step's figures from embeddings the way the trainer does.
func figures(step: Int, image: Tensor, text: Tensor, logScale: Float = 2.6,
             norms: [String: Double] = ["image": 1, "text": 0.8], groups: [String: GroupGradient] = [:],
             learningRateFraction: Double = 1, hinge: Float? = nil, sigmoidBias: Float? = nil,
             poison: Bool = false) -> CollapseFigures {
    let result = hinge.map { ContrastiveLoss.hardestNegativeHinge(image: image, text: text, margin: $0) }
        ?? sigmoidBias.map { ContrastiveLoss.sigmoid(image: image, text: text, logScale: logScale, bias: $0) }
        ?? ContrastiveLoss.nPair(image: image, text: text, logScale: logScale)
    return CollapseFigures(step: step, loss: poison ? .nan : result.loss, similarity: result.similarity,
                           image: image, text: text, logScale: logScale, gradientNorms: norms, groups: groups,
                           learningRateFraction: learningRateFraction, logitBias: sigmoidBias)
}

func unitRows(_ t: Tensor) -> Tensor {
    var out = t
    let d = t.columns
    for i in 0..<t.rows {
        let n = (0..<d).reduce(Float(0)) { $0 + t.data[i * d + $1] * t.data[i * d + $1] }.squareRoot()
        for k in 0..<d { out[i * d + k] /= max(n, 1e-12) }
    }
    return out
}

/// A healthy, learned-looking batch: text = image + noise, both spread over all directions.
/// `noise` 0.5 is a well-trained model; a large one, a model that has learned little; with
/// `independent`, text and image have nothing to do with each other.
func healthyBatch(_ b: Int, _ d: Int, _ rng: inout SeededGenerator, noise: Float = 0.5,
                  independent: Bool = false) -> (Tensor, Tensor) {
    let image = Tensor(randomNormal: [b, d], std: 1, using: &rng)
    var text = independent ? Tensor(zeros: [b, d]) : image
    for i in 0..<text.count { text[i] += noise * rng.nextNormal() }
    return (unitRows(image), unitRows(text))
}

/// Feeds `steps` batches from `make` and returns the modes declared and when first.
func run(_ monitor: CollapseMonitor, steps: Int, _ make: (Int) -> CollapseFigures) -> [CollapseMode: Int] {
    var declared: [CollapseMode: Int] = [:]
    for s in 1...steps {
        for alarm in monitor.observe(make(s)) where declared[alarm.mode] == nil { declared[alarm.mode] = s }
    }
    return declared
}

struct CollapseMonitorTests {
    static let thresholds: CollapseThresholds = {
        var t = CollapseThresholds()
        t.graceSteps = 5
        t.window = 10
        t.learningSteps = 5
        return t
    }()

    @Test(arguments: [(32, 32), (256, 128), (1024, 512)])
    func healthyBatchesRaiseNoAlarm(sizes: (Int, Int)) {
        var rng = SeededGenerator(seed: 1)
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 40) { s in
            let (i, t) = healthyBatch(sizes.0, sizes.1, &rng)
            return figures(step: s, image: i, text: t)
        }
        #expect(declared.isEmpty, "false alarms: \(declared)")
    }

    @Test func allOnesSimilarityIsSimilarityCollapseOnly() {
        let b = 64, d = 32
        let constant = unitRows(Tensor(shape: [b, d], repeating: 1))
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { figures(step: $0, image: constant, text: constant) }
        #expect(Array(declared.keys) == [.similarity])
        #expect(declared[.similarity]! <= Self.thresholds.graceSteps + Self.thresholds.window + 1)
    }

    @Test func oneConstantTowerIsEmbeddingCollapseOnly() {
        var rng = SeededGenerator(seed: 2)
        let b = 128, d = 64
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { s in
            var image = Tensor(shape: [b, d], repeating: 1)
            for i in 0..<image.count { image[i] += 0.001 * rng.nextNormal() }
            let (_, text) = healthyBatch(b, d, &rng)
            return figures(step: s, image: unitRows(image), text: text)
        }
        #expect(Array(declared.keys) == [.embedding])
    }

    @Test func embeddingsOnALineAreDimensionalCollapseOnly() {
        var rng = SeededGenerator(seed: 3)
        let b = 256, d = 128
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { s in
            // Every row ±e0 plus a little noise in 127 other directions: spread is large, rank ≈ 1.
            var image = Tensor(zeros: [b, d])
            for i in 0..<b {
                image[i * d] = i % 2 == 0 ? 1 : -1
                for k in 1..<d { image[i * d + k] = 0.02 * rng.nextNormal() }
            }
            let unit = unitRows(image)
            return figures(step: s, image: unit, text: unit)
        }
        #expect(Array(declared.keys) == [.dimensional])
    }

    @Test func shrunkScoresUnderAMarginLossAreScoreScaleCollapseOnly() {
        var rng = SeededGenerator(seed: 4)
        let b = 64, d = 32, margin = 0.2
        let monitor = CollapseMonitor(loss: .hinge(margin: margin), thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { s in
            // Unnormalised embeddings shrunk to 1e-3 of their size: every score is nearly zero.
            var (i, t) = healthyBatch(b, d, &rng)
            for k in 0..<i.count { i[k] *= 1e-3; t[k] *= 1e-3 }
            return figures(step: s, image: i, text: t, hinge: Float(margin))
        }
        #expect(Array(declared.keys) == [.scoreScale])
    }

    @Test func temperatureAtItsFloorIsDeclared() {
        var rng = SeededGenerator(seed: 5)
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { s in
            let (i, t) = healthyBatch(64, 32, &rng)
            return figures(step: s, image: i, text: t, logScale: 0)
        }
        #expect(Array(declared.keys) == [.temperature])
    }

    @Test func nonFiniteIsDeclaredAtOnceEvenInTheGracePeriod() {
        var rng = SeededGenerator(seed: 6)
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 3) { s in
            let (i, t) = healthyBatch(32, 16, &rng)
            return figures(step: s, image: i, text: t, poison: s == 2)
        }
        #expect(declared == [.nonFinite: 2])
    }

    @Test func hundredfoldGradientGapIsGradientImbalanceOnly() {
        var rng = SeededGenerator(seed: 7)
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { s in
            let (i, t) = healthyBatch(64, 32, &rng)
            return figures(step: s, image: i, text: t, norms: ["image": 120, "text": 1])
        }
        #expect(Array(declared.keys) == [.gradientImbalance])
        #expect(monitor.alarms.first?.summary.contains("120") == true)
    }

    @Test func aSingleNoisyBatchIsNotAnAlarm() {
        var rng = SeededGenerator(seed: 8)
        let b = 64, d = 32
        let constant = unitRows(Tensor(shape: [b, d], repeating: 1))
        let monitor = CollapseMonitor(thresholds: Self.thresholds)
        let declared = run(monitor, steps: 40) { s in
            if s % 7 == 0 { return figures(step: s, image: constant, text: constant) }
            let (i, t) = healthyBatch(b, d, &rng)
            return figures(step: s, image: i, text: t)
        }
        #expect(declared.isEmpty)
    }

    // The sigmoid loss is watched like the others: its pinned loss is that of every pair at the
    // batch's mean logit, which the learned bias moves, so all-equal scores are declared
    // wherever the bias stands; it has a temperature and no margin.
    @Test(arguments: [-10, -3, 0] as [Float])
    func sigmoidAllOnesSimilarityIsSimilarityCollapseOnly(bias: Float) {
        let b = 64, d = 32
        let constant = unitRows(Tensor(shape: [b, d], repeating: 1))
        let monitor = CollapseMonitor(loss: .sigmoid, thresholds: Self.thresholds)
        #expect(!monitor.modes.contains(.scoreScale) && monitor.modes.contains(.temperature))
        let declared = run(monitor, steps: 30) {
            figures(step: $0, image: constant, text: constant, logScale: log(10), sigmoidBias: bias)
        }
        #expect(Array(declared.keys) == [.similarity])
        #expect(declared[.similarity]! <= Self.thresholds.graceSteps + Self.thresholds.window + 1)
    }

    @Test func sigmoidHealthyBatchesRaiseNoAlarm() {
        var rng = SeededGenerator(seed: 9)
        let monitor = CollapseMonitor(loss: .sigmoid, thresholds: Self.thresholds)
        let declared = run(monitor, steps: 40) { s in
            let (i, t) = healthyBatch(128, 64, &rng)
            return figures(step: s, image: i, text: t, logScale: log(10), sigmoidBias: -10)
        }
        #expect(declared.isEmpty, "false alarms: \(declared)")
    }

    @Test func sigmoidTemperatureAtItsFloorIsDeclared() {
        var rng = SeededGenerator(seed: 10)
        let monitor = CollapseMonitor(loss: .sigmoid, thresholds: Self.thresholds)
        let declared = run(monitor, steps: 30) { s in
            let (i, t) = healthyBatch(64, 32, &rng)
            return figures(step: s, image: i, text: t, logScale: 0, sigmoidBias: -2)
        }
        #expect(Array(declared.keys) == [.temperature])
    }
}
