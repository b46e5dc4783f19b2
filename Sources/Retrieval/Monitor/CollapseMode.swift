// The ways a training run can end up learning nothing that the collapse monitor names, how
// each one stands, and which of them a loss can show at all.
import Foundation

/// The failure modes the monitor knows.
public enum CollapseMode: String, CaseIterable, Codable, Sendable {
    case similarity, embedding, dimensional, scoreScale = "score_scale", temperature
    case nonFinite = "non_finite", gradientImbalance = "gradient_imbalance"
    /// The outcome: the model ranks no better than chance (validation, or the batches' own retrieval).
    case learnedNothing = "learned_nothing"
    /// The loss stopped improving far from its floor while the learning rate is still high.
    case stalledLoss = "stalled_loss"
    /// Training pictures are retrieved far better than validation ones.
    case overfitting

    /// The modes `loss` can show: scores shrink under a margin only, and only the N-pair and
    /// sigmoid losses have a temperature.
    public static func applicable(to loss: TrainingLoss) -> [CollapseMode] {
        allCases.filter { mode in
            switch (mode, loss) {
            case (.scoreScale, .nPair), (.scoreScale, .sigmoid), (.temperature, .hinge): return false
            default: return true
            }
        }
    }
}

/// How one mode stands.
public enum Health: String, Codable, Sendable, Comparable {
    /// The run has not yet given the monitor what it needs to judge this mode (too few steps,
    /// no evaluation yet): nothing is known, which is not the same as healthy.
    case notJudged = "not_judged"
    case healthy, warning, collapsed

    private var order: Int {
        switch self {
        case .notJudged: return 0
        case .healthy: return 1
        case .warning: return 2
        case .collapsed: return 3
        }
    }

    public static func < (a: Health, b: Health) -> Bool { a.order < b.order }
}

/// One declared problem: which mode, since which step, the figures then, and what to do.
public struct CollapseAlarm: Codable, Sendable, Equatable {
    public let mode: CollapseMode
    public let health: Health
    public let sinceStep: Int
    public let declaredAt: Int
    public let summary: String
    public let advice: String
}
