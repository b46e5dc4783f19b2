// What training does on a declared collapse: `stop` saves a resumable state and returns the
// mode; `rollback` restores the last healthy snapshot, halves the learning rate and goes on, at
// most `maxRollbacks` times; and healthy training raises no alarm at all.
import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

@Suite(.serialized)
struct CollapseRunPolicyTests {
    @Test func stopSavesStateAndReturnsTheMode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-stop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = TrainingFiles(model: folder.appendingPathComponent("m.safetensors"))
        var faults = FaultInjection()
        faults.constantImage = true
        let run = try CollapseRun.run(steps: 40, faults: faults, files: files) { $0.onCollapse = .stop }
        #expect(run.outcome == .collapsed(.embedding))
        #expect(run.trainer.step == run.declared[.embedding])
        #expect(FileManager.default.fileExists(atPath: files.state.path))
        let resumed = try TrainingState.resume(from: files.state, train: CollapseRun.shapes, validation: nil, files: nil)
        #expect(resumed.step == run.trainer.step)
    }

    @Test func rollbackRestoresLowersTheRateAndGivesUpAfterMaxRollbacks() throws {
        var faults = FaultInjection()
        faults.constantImage = true
        faults.from = 25  // healthy until then, so snapshots exist (every 10 steps)
        let run = try CollapseRun.run(steps: 200, faults: faults) { o in
            o.onCollapse = .rollback
            o.maxRollbacks = 2
        }
        print("rollback:", run.rollbacks, run.trace)
        #expect(run.outcome == .collapsed(.embedding))
        #expect(run.rollbacks.map(\.scale) == [0.5, 0.25])
        // Each rollback went back to a settled step before the fault, not into the alarm's window.
        #expect(run.rollbacks.map(\.toStep) == [20, 20], "\(run.rollbacks)")
        #expect(run.trainer.progress.learningRateScale == 0.25)
        // Every step's figures were recorded under its own number, the collapsed ones included:
        // the numbers run on by one, and go back to 21 only after a rollback.
        let numbers = run.records.map(\.step)
        let restarts = zip(numbers, numbers.dropFirst()).filter { $1 != $0 + 1 }
        #expect(restarts.map(\.1) == [21, 21], "\(restarts)")
        // Two collapses rolled back; the third gave up.
        let collapses = run.alarms.filter { $0.health == .collapsed }.map(\.declaredAt)
        #expect(restarts.map(\.0) == Array(collapses.prefix(2)) && collapses.count == 3, "\(restarts) \(collapses)")
        // The rolled-back run was reshuffled: step 21 saw other pictures than the first time.
        let twentyFirst = run.records.filter { $0.step == 21 }.map(\.loss)
        #expect(twentyFirst.count == 3 && Set(twentyFirst).count == 3, "\(twentyFirst)")
    }

    @Test(arguments: [(32, UInt64(0)), (32, 1), (64, 0), (64, 1), (128, 0), (128, 1)])
    func healthyTrainingRaisesNoAlarm(setting: (batch: Int, seed: UInt64)) throws {
        let steps = setting.batch == 128 ? 40 : 60
        let run = try CollapseRun.run(steps: steps, batch: setting.batch, seed: setting.seed)
        print("healthy B=\(setting.batch) seed \(setting.seed):", run.ranges)
        #expect(run.alarms.isEmpty, "\(run.alarms.map(\.summary))")
        #expect(run.records.count == steps)
        // It learned: the positive-negative gap opened.
        #expect((run.records.last?.monitor.gap ?? 0) > 0.1, "\(run.trace)")
    }
}
