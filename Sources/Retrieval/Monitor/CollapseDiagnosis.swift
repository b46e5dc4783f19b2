// The monitor's verdict on a finished or running training, from its metrics lines alone: the
// logged figures are replayed through a CollapseMonitor whose window and grace are counted in
// logged lines (a line every `logEvery` steps), next to the alarms the live monitor recorded.
import Foundation

/// States per mode after replaying a metrics history, and every alarm (live and replayed).
public struct CollapseDiagnosis: Codable, Sendable {
    /// Each mode's state after the last logged step.
    public var states: [String: Health]
    /// Alarms the replay raised (from the logged steps only).
    public var replayedAlarms: [CollapseAlarm]
    /// Alarms the training's own monitor raised (it saw every step).
    public var recordedAlarms: [CollapseAlarm]
    /// Logged steps replayed, and the steps between two logged lines.
    public var steps: Int
    public var stride: Int
    public var lastStep: Int

    enum CodingKeys: String, CodingKey {
        case states, steps, stride
        case replayedAlarms = "replayed_alarms", recordedAlarms = "recorded_alarms", lastStep = "last_step"
    }

    /// True when the replay or the live monitor declared any mode collapsed.
    public var collapsed: Bool {
        states.values.contains(.collapsed) || (replayedAlarms + recordedAlarms).contains { $0.health == .collapsed }
    }

    /// Replays `history`. Thresholds are in steps; they are divided by the logging stride.
    public static func replay(_ history: MetricsHistory, loss: MonitoredLoss = .nPair,
                              logScaleRange: ClosedRange<Double> = 0...log(100),
                              thresholds: CollapseThresholds = CollapseThresholds()) -> CollapseDiagnosis {
        let steps = history.steps.map(\.step)
        let gaps = zip(steps.dropFirst(), steps).map { $0 - $1 }.filter { $0 > 0 }.sorted()
        let stride = gaps.isEmpty ? 1 : gaps[gaps.count / 2]
        var scaled = thresholds
        scaled.window = max(2, (thresholds.window + stride - 1) / stride)
        scaled.graceSteps = thresholds.graceSteps / stride
        let monitor = CollapseMonitor(loss: loss, logScaleRange: logScaleRange, thresholds: scaled)
        for record in history.steps { monitor.observe(record.monitor) }
        let states = Dictionary(uniqueKeysWithValues: monitor.states.map { ($0.key.rawValue, $0.value) })
        return CollapseDiagnosis(states: states, replayedAlarms: monitor.alarms, recordedAlarms: history.alarms,
                                 steps: history.steps.count, stride: stride, lastStep: steps.last ?? 0)
    }
}
