// What training does about the monitor's collapses, under the user's policy: report and go on,
// save and stop, or go back to the last settled state with half the learning rate. It keeps
// that settled state; the trainer carries out the decision.
import Neural

/// A state a rollback returns to: weights and buffers, the optimizer's moments, the progress.
struct TrainingSnapshot {
    var values: [Tensor]
    var optimizer: [String: Tensor]
    var progress: TrainingProgress
}

final class CollapseResponse {
    let policy: CollapsePolicy
    let maxRollbacks: Int
    /// The last state taken while the monitor was settled.
    private(set) var snapshot: TrainingSnapshot?

    enum Decision {
        case goOn
        case stop(CollapseMode)
        case rollBack(TrainingSnapshot)
    }

    init(policy: CollapsePolicy, maxRollbacks: Int) {
        self.policy = policy
        self.maxRollbacks = maxRollbacks
    }

    /// Keeps `take()` as the state to roll back to, on every `interval`-th step while the monitor
    /// is settled (a healthy-looking step inside a window may already be sick). Only the rollback
    /// policy needs it.
    func keep(_ take: () -> TrainingSnapshot, step: Int, interval: Int, settled: Bool) {
        guard policy == .rollback, settled, step % interval == 0 else { return }
        snapshot = take()
    }

    /// The decision on this step's alarms, after `rollbacks` rollbacks. A rollback cannot mend a
    /// model that never learned or data that cannot be learned, so "learned nothing" stops.
    func decide(on alarms: [CollapseAlarm], rollbacks: Int) -> Decision {
        guard let alarm = alarms.first(where: { $0.health == .collapsed }) else { return .goOn }
        switch policy {
        case .warn:
            return .goOn
        case .stop:
            return .stop(alarm.mode)
        case .rollback:
            guard alarm.mode != .learnedNothing, rollbacks < maxRollbacks, let snapshot else { return .stop(alarm.mode) }
            return .rollBack(snapshot)
        }
    }
}
