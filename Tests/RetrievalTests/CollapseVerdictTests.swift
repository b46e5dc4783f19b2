// The monitor's judgement beyond single steps: thresholds that scale with the run, modes that
// were never judged, the final verdict, evaluations against chance, overfitting, retrieval
// within the batch, a stalled loss and one parameter group dwarfing the others.
import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

struct CollapseVerdictTests {
    @Test func thresholdsScaleWithTheRunAndStopAtTheDefaults() {
        let short = CollapseThresholds.forRun(totalSteps: 20)
        // A 20-step run is judged from step 6 and a collapse from step 1 is declared by step 10.
        #expect(short.graceSteps + short.window <= 10)
        let long = CollapseThresholds.forRun(totalSteps: 100_000)
        #expect(long.graceSteps == 50 && long.window == 20 && long.learningSteps == 500 && long.stallSteps == 500)
        let middle = CollapseThresholds.forRun(totalSteps: 160)
        #expect(middle.window == 20 && middle.graceSteps == 16 && middle.learningSteps == 40 && middle.stallSteps == 40)
    }

    @Test func aTwentyStepRunWithAllOnesIsStoppedByItsTenthStep() {
        let constant = unitRows(Tensor(shape: [64, 32], repeating: 1))
        let monitor = CollapseMonitor(thresholds: .forRun(totalSteps: 20))
        let declared = run(monitor, steps: 20) { figures(step: $0, image: constant, text: constant) }
        #expect((declared[.similarity] ?? .max) <= 10, "\(declared)")
    }

    @Test func modesNeverJudgedSayNotJudged() {
        var rng = SeededGenerator(seed: 1)
        let monitor = CollapseMonitor(thresholds: .forRun(totalSteps: 1000))
        #expect(monitor.overall == .notJudged)
        _ = run(monitor, steps: 3) { s in
            let (i, t) = healthyBatch(32, 16, &rng)
            return figures(step: s, image: i, text: t)
        }
        var expected = Dictionary(uniqueKeysWithValues: CollapseMode.applicable(to: .nPair).map { ($0, Health.notJudged) })
        expected[.nonFinite] = .healthy
        #expect(monitor.states == expected)
        #expect(monitor.states[.scoreScale] == nil, "score scale cannot happen under N-pair")
        #expect(CollapseMonitor(loss: .hinge(margin: 0.2)).states[.temperature] == nil)
    }

    @Test func theFinalVerdictDeclaresWhatWasStillBuildingUp() {
        var rng = SeededGenerator(seed: 2)
        var t = CollapseThresholds()
        (t.graceSteps, t.window) = (5, 10)
        let monitor = CollapseMonitor(thresholds: t)
        let constant = unitRows(Tensor(shape: [64, 32], repeating: 1))
        // Healthy until step 10, then all-ones for 6 steps: less than a window when training ends.
        let declared = run(monitor, steps: 16) { s in
            if s > 10 { return figures(step: s, image: constant, text: constant) }
            let (i, t) = healthyBatch(64, 32, &rng)
            return figures(step: s, image: i, text: t)
        }
        #expect(declared.isEmpty)
        let final = monitor.finish()
        #expect(final.map(\.mode) == [.similarity], "\(final.map(\.summary))")
        #expect(final.first?.summary.contains("at the end of training (since step 11)") == true, "\(final.map(\.summary))")
        #expect(monitor.states[.similarity] == .collapsed)
        #expect(monitor.states[.stalledLoss] == .notJudged && monitor.states[.overfitting] == .notJudged)
    }

    /// Recall of `n` pictures against captions that are the pictures plus `noise` (or unrelated).
    static func evaluation(_ n: Int, seed: UInt64, noise: Float = 0.5, independent: Bool = false) -> RecallReport {
        var rng = SeededGenerator(seed: seed)
        let (images, captions) = healthyBatch(n, 32, &rng, noise: noise, independent: independent)
        return RecallEvaluator.evaluate(images: images, captions: captions, imageOfCaption: Array(0..<n))
    }

    @Test func validationAtChanceWarnsThenCollapsesAndALearnedModelIsHealthy() {
        var t = CollapseThresholds()
        t.learningSteps = 0
        let monitor = CollapseMonitor(thresholds: t)
        let chance = Self.evaluation(200, seed: 3, independent: true)
        #expect(abs(chance.rankScore ?? 1) < 3 * chance.rankScoreStandardError, "rank score \(chance.rankScore ?? .nan)")
        #expect(abs((chance.chance?.textToImage.r10 ?? 0) - 5) < 1e-9)   // 10 of 200 pictures
        let first = monitor.observe(evaluation: chance, training: nil, step: 10)
        #expect(first.map(\.health) == [.warning] && first.first?.mode == .learnedNothing)
        #expect(first.first?.summary.contains("chance 5.0") == true, "\(first.map(\.summary))")
        let second = monitor.observe(evaluation: Self.evaluation(200, seed: 4, independent: true), training: nil, step: 20)
        #expect(second.map(\.health) == [.collapsed])
        #expect(second.first?.summary.contains("since step 10") == true)

        let learned = CollapseMonitor(thresholds: t)
        let report = Self.evaluation(200, seed: 5, noise: 2)
        #expect(learned.observe(evaluation: report, training: nil, step: 10, final: true).isEmpty,
                "rank score \(report.rankScore ?? .nan)")
        #expect(learned.states[.learnedNothing] == .healthy)
    }

    @Test func theLastEvaluationAtChanceIsACollapseAfterTimeToLearnAndTooFewPicturesAreNotJudged() {
        var rng = SeededGenerator(seed: 6)
        var t = CollapseThresholds()
        (t.graceSteps, t.window, t.learningSteps) = (5, 5, 20)
        let monitor = CollapseMonitor(thresholds: t)
        // Before the model had time to learn: not judged, unless it is the last evaluation, and
        // then a warning only (the run was too short).
        #expect(monitor.observe(evaluation: Self.evaluation(200, seed: 6, independent: true), training: nil, step: 1).isEmpty)
        #expect(monitor.states[.learnedNothing] == .notJudged)
        let early = monitor.observe(evaluation: Self.evaluation(200, seed: 7, independent: true), training: nil, step: 2, final: true)
        #expect(early.map(\.health) == [.warning] && early.first?.summary.contains("too short") == true, "\(early.map(\.summary))")

        let trained = CollapseMonitor(thresholds: t)
        _ = run(trained, steps: 20) { s in
            let (i, t) = healthyBatch(64, 32, &rng)
            return figures(step: s, image: i, text: t)
        }
        let last = trained.observe(evaluation: Self.evaluation(200, seed: 8, independent: true), training: nil, step: 20, final: true)
        #expect(last.map(\.health) == [.collapsed], "\(last.map(\.summary))")

        let small = CollapseMonitor(thresholds: t)
        #expect(small.observe(evaluation: Self.evaluation(12, seed: 9, independent: true), training: nil, step: 10, final: true).isEmpty)
        #expect(small.states[.learnedNothing] == .notJudged, "12 pictures cannot tell learning from chance")
    }

    @Test func trainingFarAboveValidationIsOverfitting() {
        var t = CollapseThresholds()
        t.learningSteps = 0
        let monitor = CollapseMonitor(thresholds: t)
        let memorised = Self.evaluation(200, seed: 9, noise: 0.3)
        let weak = Self.evaluation(200, seed: 10, noise: 15)
        #expect((weak.rankScore ?? 0) > 0.1 && (weak.rankScore ?? 1) < 0.4, "\(weak.rankScore ?? .nan)")
        let raised = monitor.observe(evaluation: weak, training: memorised, step: 10)
        #expect(raised.map(\.mode) == [.overfitting] && raised.first?.health == .warning, "\(raised.map(\.summary))")
        let fine = CollapseMonitor(thresholds: t)
        #expect(fine.observe(evaluation: Self.evaluation(200, seed: 11, noise: 1), training: memorised, step: 10).isEmpty)
    }

    @Test func batchesRetrievingAtChanceLearnedNothing() {
        var rng = SeededGenerator(seed: 12)
        var t = CollapseThresholds()
        (t.graceSteps, t.window, t.learningSteps) = (5, 10, 15)
        let monitor = CollapseMonitor(thresholds: t)
        // Captions unrelated to their pictures, every other figure healthy-looking.
        let declared = run(monitor, steps: 30) { s in
            let (i, t) = healthyBatch(64, 32, &rng, independent: true)
            return figures(step: s, image: i, text: t)
        }
        #expect(declared == [.learnedNothing: 24], "\(declared)")
        #expect(monitor.alarms.first?.summary.contains("top-1 in the batch") == true, "\(monitor.alarms.map(\.summary))")
    }

    @Test func aFlatLossFarFromItsFloorAtAHighRateIsAStall() {
        var t = CollapseThresholds()
        (t.graceSteps, t.window, t.stallSteps) = (5, 5, 20)
        func stalled(rate: Double) -> [CollapseMode: Int] {
            var rng = SeededGenerator(seed: 13)
            return run(CollapseMonitor(thresholds: t), steps: 50) { s in
                // A model that learned a little and no more: the loss stays at ≈ 0.8 ln B.
                let (i, t) = healthyBatch(64, 32, &rng, noise: 3)
                return figures(step: s, image: i, text: t, learningRateFraction: rate)
            }
        }
        let declared = stalled(rate: 1)
        #expect(Array(declared.keys) == [.stalledLoss], "\(declared)")
        #expect((declared[.stalledLoss] ?? .max) <= 5 + 25 + 5 + 1)
        #expect(stalled(rate: 0.1).isEmpty, "a decayed learning rate is the end of a schedule, not a stall")
    }

    @Test func oneParameterGroupDwarfingTheOthersIsNamed() {
        var rng = SeededGenerator(seed: 14)
        var t = CollapseThresholds()
        (t.graceSteps, t.window) = (5, 10)
        let monitor = CollapseMonitor(thresholds: t)
        var groups = Dictionary(uniqueKeysWithValues: ["image.conv1", "image.conv2", "image.proj", "text.attention", "text.proj", "logit_scale"]
            .map { ($0, GroupGradient(gradientNorm: 1, valueNorm: 10, updateRatio: 1e-3)) })
        groups["text.tokens"] = GroupGradient(gradientNorm: 150, valueNorm: 100, updateRatio: 1e-3)
        let declared = run(monitor, steps: 30) { s in
            let (i, t) = healthyBatch(64, 32, &rng)
            return figures(step: s, image: i, text: t, groups: groups)
        }
        #expect(Array(declared.keys) == [.gradientImbalance], "\(declared)")
        let alarm = monitor.alarms.first
        #expect(alarm?.summary.contains("text.tokens") == true && alarm?.advice.contains("--embedding-lr") == true,
                "\(monitor.alarms.map(\.summary))")
    }
}
