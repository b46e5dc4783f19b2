// The other half of the monitor's promise: healthy runs raise no alarm at all, not even a
// warning. Shapes and real icons, batch 32 to 256, several seeds, short runs (where grace and
// window are shortest) and long ones, each with a validation split and the thresholds the
// trainer scales to the run, ending with a final verdict in which every mode was judged.
import Foundation
import Testing
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

@Suite(.serialized)
struct HealthyRunTests {
    struct Setting: CustomTestStringConvertible, Sendable {
        var icons: Bool
        var batch: Int
        var epochs: Int
        var seed: UInt64
        var testDescription: String { "\(icons ? "icons" : "shapes") B\(batch) \(epochs) epochs seed \(seed)" }
    }

    static let settings = [
        Setting(icons: false, batch: 32, epochs: 2, seed: 0), Setting(icons: false, batch: 64, epochs: 3, seed: 1),
        Setting(icons: false, batch: 128, epochs: 8, seed: 2), Setting(icons: false, batch: 256, epochs: 16, seed: 0),
        Setting(icons: false, batch: 64, epochs: 12, seed: 0),
        Setting(icons: true, batch: 32, epochs: 2, seed: 0), Setting(icons: true, batch: 64, epochs: 3, seed: 1),
        Setting(icons: true, batch: 64, epochs: 10, seed: 2), Setting(icons: true, batch: 128, epochs: 12, seed: 0),
        Setting(icons: true, batch: 256, epochs: 20, seed: 1),
    ]

    static let shapes = SmallShapes.stores(count: 1024)

    @Test(arguments: settings)
    func healthyRunRaisesNoAlarm(_ setting: Setting) throws {
        let stores = setting.icons ? try IconSet.stores() : Self.shapes
        let run = try CollapseRun.run(steps: .max, batch: setting.batch, seed: setting.seed, train: stores.train,
                                      validation: stores.validation, thresholds: nil) { o in
            o.epochs = setting.epochs
            o.warmupSteps = nil
        }
        print("healthy \(setting.testDescription) (\(run.trainer.totalSteps) steps):", run.ranges)
        #expect(run.alarms.isEmpty, "\(run.alarms.map(\.summary))")
        #expect(run.outcome == .completed)
        let verdict = try #require(run.verdict)
        let judged = verdict.states.filter { $0.value != .notJudged }.map(\.key)
        #expect(verdict.states.values.allSatisfy { $0 <= .healthy }, "\(verdict.states)")
        // Everything the run was long enough for was judged: all but a stall in the shortest runs.
        let t = run.trainer.monitor.thresholds
        let stallJudgeable = run.trainer.totalSteps >= max(t.window + t.stallSteps, t.graceSteps + 1)
        #expect(Set(judged) == Set(CollapseMode.applicable(to: .nPair).map(\.rawValue)
                    .filter { $0 != "stalled_loss" || stallJudgeable }), "\(verdict.states)")
        // It learned: validation stands clearly above chance (more than 3 standard errors).
        let last = try #require(run.evaluations.last?.recall)
        #expect((last.rankScore ?? 0) > 3 * last.rankScoreStandardError, "rank score \(last.rankScore ?? .nan)")
    }
}
