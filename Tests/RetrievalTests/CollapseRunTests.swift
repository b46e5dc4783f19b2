// Each collapse mode induced on purpose in a real, small training run on 32-px shapes, and the
// monitor must name that mode, and only that one, within a stated number of steps. Thresholds:
// grace 10 steps, window 10 (CollapseRun.thresholds), so a persistent fault from step 1 must be
// declared by step grace + window + 1 = 21 (NaN: on the very step).
import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

@Suite(.serialized)
struct CollapseRunTests {
    /// Grace + window + 1: the first step a fault present from step 1 can be declared.
    static let deadline = CollapseRun.thresholds.graceSteps + CollapseRun.thresholds.window + 1

    @Test func constantImageTowerIsEmbeddingCollapse() throws {
        var faults = FaultInjection()
        faults.constantImage = true
        let run = try CollapseRun.run(steps: 30, faults: faults)
        print("constant image tower:", run.trace)
        #expect(Array(run.declared.keys) == [.embedding], "\(run.trace)")
        #expect((run.declared[.embedding] ?? .max) <= Self.deadline)
        #expect(run.alarms.first?.summary.contains("image tower") == true, "\(run.alarms.map(\.summary))")
    }

    @Test func bothTowersConstantIsSimilarityCollapse() throws {
        var faults = FaultInjection()
        faults.constantImage = true
        faults.constantText = true
        let run = try CollapseRun.run(steps: 30, faults: faults)
        print("both towers constant:", run.trace)
        #expect(Array(run.declared.keys) == [.similarity], "\(run.trace)")
        #expect((run.declared[.similarity] ?? .max) <= Self.deadline)
    }

    @Test func marginLossOnUnnormalisedScoresIsScoreScaleCollapse() throws {
        // No fault but the missing normalisation: the hinge loss flattens the scores until their
        // spread is ≈ 0 and the loss sits at 2·margin (measured: warning at step 28, score std
        // 0.005 and mean positive 0.1 by step 150 at lr 2e-3).
        var faults = FaultInjection()
        faults.unnormalisedImage = true
        let run = try CollapseRun.run(steps: 150, faults: faults) { o in
            o.loss = .hinge(margin: 0.2)
        }
        print("hinge, unnormalised image tower:", run.trace)
        #expect(Array(run.declared.keys) == [.scoreScale], "\(run.trace)")
        #expect(run.alarms.contains { $0.mode == .scoreScale && $0.health == .collapsed }, "\(run.alarms.map(\.summary))")
    }

    @Test func learningRateFarTooHighWithFrozenTemperatureCollapsesTheTextTower() throws {
        // No injected fault beyond the frozen temperature (kept at 1/0.07): at lr 0.1 the text
        // tower maps every caption to nearly one point within a few steps (measured: text spread
        // 0.01 from step 11, image spread 0.15). Seed 1: on seed 0 the image tower follows it
        // down at lr 0.3 and the monitor rightly calls that similarity collapse.
        var faults = FaultInjection()
        faults.frozenTemperature = true
        let run = try CollapseRun.run(steps: 30, seed: 1, faults: faults) { o in
            o.learningRate = 0.1
        }
        print("lr 0.1, frozen temperature:", run.trace)
        #expect(Array(run.declared.keys) == [.embedding], "\(run.trace)")
        #expect((run.declared[.embedding] ?? .max) <= Self.deadline)
        #expect(run.alarms.first?.summary.contains("text tower") == true, "\(run.alarms.map(\.summary))")
    }

    @Test func poisonedBatchIsNonFiniteOnThatStep() throws {
        var faults = FaultInjection()
        faults.poisonedSteps = [15]
        let run = try CollapseRun.run(steps: 20, faults: faults)
        print("poisoned batch at 15:", run.trace)
        #expect(run.declared == [.nonFinite: 15], "\(run.trace)")
        // The poisoned step was skipped: training goes on with finite weights.
        #expect(run.trainer.model.parameters.allSatisfy { $0.value.data.allSatisfy(\.isFinite) })
    }

    @Test func hundredfoldGradientOnOneTowerIsGradientImbalance() throws {
        var faults = FaultInjection()
        faults.gradientScale = ("image.", 100)
        let run = try CollapseRun.run(steps: 30, faults: faults)
        print("image gradient ×100:", run.trace)
        #expect(Array(run.declared.keys) == [.gradientImbalance], "\(run.trace)")
        #expect((run.declared[.gradientImbalance] ?? .max) <= Self.deadline)
    }

    @Test func temperatureDrivenToItsFloorIsTemperatureCollapse() throws {
        var faults = FaultInjection()
        faults.logScaleDrift = 0.3
        let run = try CollapseRun.run(steps: 30, faults: faults)
        print("log-scale drifting down 0.3/step:", run.trace)
        #expect(Array(run.declared.keys) == [.temperature], "\(run.trace)")
        #expect((run.declared[.temperature] ?? .max) <= Self.deadline)
        #expect(run.alarms.first?.summary.contains("minimum") == true)
    }
}
