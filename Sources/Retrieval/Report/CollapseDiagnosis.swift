// The monitor's verdict on a finished or running training, from its metrics lines alone: the
// logged figures and evaluations are replayed through a CollapseMonitor whose step counts are
// counted in logged lines (a line every `logEvery` steps), next to the alarms and the final
// states the live monitor recorded. The run's own line says which loss it trained and with
// which thresholds, so nothing needs to be told.
import Foundation

/// States per mode after replaying a metrics history, and every alarm (live and replayed).
public struct CollapseDiagnosis: Codable, Sendable {
    /// Each mode's state after the replay ("not_judged" where the logged steps never allowed a
    /// judgement).
    public var states: [String: Health]
    /// The live monitor's states when the run ended or stopped (it saw every step); nil when the
    /// file has no verdict yet (a running training, or an older version).
    public var recordedStates: [String: Health]?
    /// Alarms the replay raised (from the logged steps only).
    public var replayedAlarms: [CollapseAlarm]
    /// Alarms the training's own monitor raised (it saw every step).
    public var recordedAlarms: [CollapseAlarm]
    /// The loss the run trained with (from its plan line, or as told).
    public var loss: TrainingLoss
    /// Logged steps replayed, and the steps between two logged lines.
    public var steps: Int
    public var stride: Int
    public var lastStep: Int

    enum CodingKeys: String, CodingKey {
        case states, steps, stride, loss
        case recordedStates = "recorded_states", replayedAlarms = "replayed_alarms", recordedAlarms = "recorded_alarms"
        case lastStep = "last_step"
    }

    /// The states to report: the live monitor's when the run recorded them, else the replay's.
    public var finalStates: [String: Health] { recordedStates ?? states }

    /// True when the replay or the live monitor declared any mode collapsed.
    public var collapsed: Bool {
        (Array(states.values) + Array(recordedStates?.values ?? [:].values)).contains(.collapsed)
            || (replayedAlarms + recordedAlarms).contains { $0.health == .collapsed }
    }

    /// Replays `history`. `loss` and `thresholds` override what the run's plan line says (files
    /// of older versions have none: N-pair, and thresholds scaled to the logged length). Step
    /// counts are divided by the logging stride.
    public static func replay(_ history: MetricsHistory, loss: TrainingLoss? = nil,
                              logScaleRange: ClosedRange<Double> = 0...log(100),
                              thresholds: CollapseThresholds? = nil) -> CollapseDiagnosis {
        let steps = history.steps.map(\.step)
        let gaps = zip(steps.dropFirst(), steps).map { $0 - $1 }.filter { $0 > 0 }.sorted()
        let stride = gaps.isEmpty ? 1 : gaps[gaps.count / 2]
        let totalSteps = history.plan?.totalSteps ?? steps.last ?? 0
        var scaled = thresholds ?? history.plan?.thresholds ?? .forRun(totalSteps: totalSteps)
        func lines(_ count: Int) -> Int { (count + stride - 1) / stride }
        scaled.window = max(2, lines(scaled.window))
        scaled.graceSteps /= stride
        scaled.stallSteps = max(2, lines(scaled.stallSteps))
        scaled.learningSteps = lines(scaled.learningSteps)
        let loss = loss ?? history.plan?.loss ?? .nPair
        let monitor = CollapseMonitor(loss: loss, logScaleRange: logScaleRange, thresholds: scaled)

        // Evaluations are judged at their step, counted in logged lines like the rest.
        var evaluations = history.evaluations[...]
        let ended = history.verdict.map { $0.step >= totalSteps } ?? false
        for record in history.steps {
            monitor.observe(record.monitor)
            while let e = evaluations.first, e.step <= record.step {
                monitor.observe(evaluation: e.recall, training: e.training, step: e.step,
                                final: evaluations.count == 1 && ended)
                evaluations = evaluations.dropFirst()
            }
        }
        if ended { monitor.finish() }
        let states = Dictionary(uniqueKeysWithValues: monitor.states.map { ($0.key.rawValue, $0.value) })
        return CollapseDiagnosis(states: states, recordedStates: history.verdict?.states,
                                 replayedAlarms: monitor.alarms, recordedAlarms: history.alarms, loss: loss,
                                 steps: history.steps.count, stride: stride, lastStep: steps.last ?? 0)
    }
}
