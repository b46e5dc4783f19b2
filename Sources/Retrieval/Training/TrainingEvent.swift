// What a training run reports as it goes, through one callback: the plan, step records,
// evaluations, alarms, rollbacks, checkpoints and the monitor's final verdict. The CLI turns
// them into a progress bar and metrics lines; tests read them directly.
import Foundation

/// The figures of one logged step: everything the metrics JSON line carries.
public struct StepRecord: Codable, Sendable {
    public var kind = "step"
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var learningRate: Double
    /// 1 / logit scale; nil under a loss without a temperature (the hinge).
    public var temperature: Double?
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

/// Recall on the validation split after an epoch, and on as many training pictures (without
/// augmentation), which tells learning from memorising.
public struct EvaluationRecord: Codable, Sendable {
    public var kind = "eval"
    public var step: Int
    public var epoch: Int
    public var recall: RecallReport
    public var training: RecallReport?
    public var isBest: Bool

    enum CodingKeys: String, CodingKey {
        case kind, step, epoch, recall, training = "train", isBest = "best"
    }

    public init(step: Int, epoch: Int, recall: RecallReport, training: RecallReport? = nil, isBest: Bool) {
        self.step = step
        self.epoch = epoch
        self.recall = recall
        self.training = training
        self.isBest = isBest
    }
}

/// The shape of the run, known before the first step; the first metrics line of a run.
public struct TrainingPlan: Codable, Sendable {
    public var kind = "run"
    public var trainImages: Int
    public var validationImages: Int
    public var batchSize: Int
    public var stepsPerEpoch: Int
    public var totalSteps: Int
    public var startStep: Int
    public var vocabularySize: Int
    public var loss: TrainingLoss
    /// What the monitor judges with, scaled to this run's length.
    public var thresholds: CollapseThresholds

    enum CodingKeys: String, CodingKey {
        case kind, loss, thresholds
        case trainImages = "train_images", validationImages = "validation_images", batchSize = "batch"
        case stepsPerEpoch = "steps_per_epoch", totalSteps = "total_steps", startStep = "start_step"
        case vocabularySize = "vocabulary"
    }
}

/// The monitor's state of every mode when training ended or stopped: "not_judged" where the run
/// gave it nothing to judge.
public struct TrainingVerdict: Codable, Sendable {
    public var kind = "verdict"
    public var step: Int
    public var states: [String: Health]

    public init(step: Int, states: [CollapseMode: Health]) {
        self.step = step
        self.states = Dictionary(uniqueKeysWithValues: states.map { ($0.key.rawValue, $0.value) })
    }
}

/// A rollback as a metrics line: records after `toStep` that came before it were undone.
public struct RollbackRecord: Codable, Sendable {
    public var kind = "rollback"
    public var toStep: Int
    public var learningRateScale: Double

    enum CodingKeys: String, CodingKey { case kind, toStep = "to_step", learningRateScale = "lr_scale" }

    public init(toStep: Int, learningRateScale: Double) {
        self.toStep = toStep
        self.learningRateScale = learningRateScale
    }
}

public enum TrainingEvent: Sendable {
    case planned(TrainingPlan)
    case step(StepRecord)
    case evaluated(EvaluationRecord)
    case alarm(CollapseAlarm)
    /// The monitor's alarm led to a rollback to `step` with the learning rate scaled by `scale`.
    case rolledBack(toStep: Int, learningRateScale: Double)
    case saved(URL)
    /// Training ended or stopped: the state of every mode.
    case verdict(TrainingVerdict)
}

/// How a run ended.
public enum TrainingOutcome: Sendable, Equatable {
    case completed
    /// Stopped on request (Ctrl-C); a resumable state was saved.
    case interrupted
    /// Stopped by the collapse policy, or ran to the end with this mode collapsed; a resumable
    /// state was saved.
    case collapsed(CollapseMode)
}
