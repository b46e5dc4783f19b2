// Reads a training's metrics JSON lines back: the run's plan, step records, evaluations,
// alarms, rollbacks and the final verdict. A rollback undoes the records after the step it went
// back to, so the history is the timeline of the model as it now stands. A running training may
// be caught mid-line, so a damaged last line is skipped; a damaged line elsewhere is an error
// naming the file and the line.
import Foundation

/// Why a metrics file could not be read.
public struct MetricsReadError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Everything one metrics file holds, in file order.
public struct MetricsHistory: Sendable {
    public var steps: [StepRecord] = []
    public var evaluations: [EvaluationRecord] = []
    /// The alarms the live monitor raised (it saw every step, not only the logged ones).
    public var alarms: [CollapseAlarm] = []
    /// The plan of the last run written to the file (a resumed run appends its own); nil in
    /// files of versions that did not write it.
    public var plan: TrainingPlan?
    /// The live monitor's states when training last ended or stopped.
    public var verdict: TrainingVerdict?
    /// Rollbacks, in order.
    public var rollbacks: [RollbackRecord] = []
    /// True when the last line was cut short (a running training) and left out.
    public var truncatedLastLine = false

    public init(steps: [StepRecord] = [], evaluations: [EvaluationRecord] = [], alarms: [CollapseAlarm] = []) {
        self.steps = steps
        self.evaluations = evaluations
        self.alarms = alarms
    }

    /// The alarm line the trainer's reporter writes: {"kind":"alarm","alarm":{…}}.
    public struct AlarmLine: Codable, Sendable {
        public var kind = "alarm"
        public var alarm: CollapseAlarm

        public init(alarm: CollapseAlarm) { self.alarm = alarm }
    }

    private struct Kind: Decodable { var kind: String? }

    public static func read(contentsOf url: URL) throws -> MetricsHistory {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw MetricsReadError(path: url.path, problem: "cannot read the metrics file (\(error.localizedDescription))")
        }
        return try parse(data, path: url.path)
    }

    /// Parses JSON lines; `path` names the source in errors.
    public static func parse(_ data: Data, path: String) throws -> MetricsHistory {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var history = MetricsHistory()
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let last = lines.lastIndex { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } } ?? -1
        for (index, line) in lines.enumerated() where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
            do {
                switch try decoder.decode(Kind.self, from: line).kind {
                case "step": history.steps.append(try decoder.decode(StepRecord.self, from: line))
                case "eval": history.evaluations.append(try decoder.decode(EvaluationRecord.self, from: line))
                case "alarm": history.alarms.append(try decoder.decode(AlarmLine.self, from: line).alarm)
                case "run": history.plan = try decoder.decode(TrainingPlan.self, from: line)
                case "verdict": history.verdict = try decoder.decode(TrainingVerdict.self, from: line)
                case "rollback":
                    let rollback = try decoder.decode(RollbackRecord.self, from: line)
                    history.rollbacks.append(rollback)
                    history.steps.removeAll { $0.step > rollback.toStep }
                    history.evaluations.removeAll { $0.step > rollback.toStep }
                default: continue  // lines of later versions: ignored
                }
            } catch {
                // The last line of a file being written may be cut short; anything else is damage.
                if index == last && data.last != 0x0A {
                    history.truncatedLastLine = true
                    continue
                }
                throw MetricsReadError(path: path, problem: "line \(index + 1) is not a metrics record (\(error))")
            }
        }
        return history
    }
}
