// What a training run reports as it goes, through one callback: the plan, step records,
// evaluations, alarms and checkpoints. The CLI turns them into a progress bar and metrics
// lines; tests read them directly.
import Foundation

/// The figures of one logged step: everything the metrics JSON line carries.
public struct StepRecord: Codable, Sendable {
    public var kind = "step"
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var learningRate: Double
    public var temperature: Double
    public var gradientNorm: Double
    public var pairsPerSecond: Double
    /// Overall health (healthy / warning / collapsed) after this step.
    public var health: Health
    public var monitor: CollapseFigures

    enum CodingKeys: String, CodingKey {
        case kind, step, epoch, loss, temperature, health, monitor
        case learningRate = "lr", gradientNorm = "grad_norm", pairsPerSecond = "pairs_per_s"
    }
}

/// Recall on the validation split after an epoch.
public struct EvaluationRecord: Codable, Sendable {
    public var kind = "eval"
    public var step: Int
    public var epoch: Int
    public var recall: RecallReport
    public var isBest: Bool

    enum CodingKeys: String, CodingKey {
        case kind, step, epoch, recall, isBest = "best"
    }
}

/// The shape of the run, known before the first step.
public struct TrainingPlan: Sendable {
    public var trainImages: Int
    public var validationImages: Int
    public var stepsPerEpoch: Int
    public var totalSteps: Int
    public var startStep: Int
    public var vocabularySize: Int
}

public enum TrainingEvent: Sendable {
    case planned(TrainingPlan)
    case step(StepRecord)
    case evaluated(EvaluationRecord)
    case alarm(CollapseAlarm)
    /// The monitor's alarm led to a rollback to `step` with the learning rate scaled by `scale`.
    case rolledBack(toStep: Int, learningRateScale: Double)
    case saved(URL)
}

/// How a run ended.
public enum TrainingOutcome: Sendable, Equatable {
    case completed
    /// Stopped on request (Ctrl-C); a resumable state was saved.
    case interrupted
    /// Stopped by the collapse policy; a resumable state was saved.
    case collapsed(CollapseMode)
}
