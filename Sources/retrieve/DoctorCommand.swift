// `retrieve doctor`: the collapse monitor's diagnosis of a finished or running training from its
// metrics lines alone — each failure mode's state, every alarm with its step and advice — and,
// on request, the HTML report.
import ArgumentParser
import Foundation
import Retrieval

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Diagnose a training from its metrics file: collapse states, alarms and advice.",
        discussion: """
            Lists each failure mode's state as the training's own monitor left it (it saw every step; "not judged" where the run gave it nothing to judge), the alarms it raised, and a replay of the logged figures and evaluations (a line every --log-every steps) through the collapse monitor, with its step counts counted in logged lines. The metrics file says which loss the run trained; a running training may be read: an incomplete last line is skipped.

            --json prints the diagnosis: {"states": {mode: state}, "recorded_states": {mode: state} (absent until the run has a verdict), "replayed_alarms": [alarm], "recorded_alarms": [alarm], "loss": {…}, "steps": N, "stride": N, "last_step": N}; states are healthy, warning, collapsed or not_judged.

            \(ExitStatus.table)
            """
    )

    @Argument(help: ArgumentHelp("The metrics file (JSON lines) of `retrieve train`.", valueName: "metrics"))
    var metrics: String

    @Option(help: ArgumentHelp("Also write the HTML report here.", valueName: "file"))
    var html: String?

    @Option(help: "The loss the run trained with: npair or hinge (default: what the metrics file says, else npair).")
    var loss: TrainingLoss?

    @Option(help: "Margin of the hinge loss.")
    var margin = 0.2

    @Flag(help: "Print the diagnosis as JSON.")
    var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: metrics) else { throw ValidationError("no metrics file at \(metrics)") }
        guard margin > 0 else { throw ValidationError("--margin must be positive, got \(margin)") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: metrics)
        let history = try MetricsHistory.read(contentsOf: url)
        let diagnosis = CollapseDiagnosis.replay(history, loss: loss?.withMargin(margin))
        if let html {
            try TrainingReport.write(history, title: "Training report: \(url.lastPathComponent)", diagnosis: diagnosis,
                                     to: URL(fileURLWithPath: html))
        }
        if json {
            try Console.printJSON(diagnosis)
        } else {
            print("\(metrics): \(history.steps.count) logged steps up to step \(diagnosis.lastStep) (a line every \(diagnosis.stride) steps), \(history.evaluations.count) evaluations\(history.truncatedLastLine ? "; incomplete last line skipped" : "")")
            let source = diagnosis.recordedStates == nil ? "replayed from the logged steps" : "as the training's monitor left them"
            print("states (\(source)):")
            for mode in CollapseMode.applicable(to: diagnosis.loss) {
                let state = diagnosis.finalStates[mode.rawValue] ?? .notJudged
                print("  \(pad(mode.rawValue, 20))\(state == .notJudged ? "not judged" : state.rawValue)")
            }
            let alarms = history.alarms.isEmpty ? diagnosis.replayedAlarms : history.alarms
            let alarmSource = history.alarms.isEmpty ? "replayed from the logged steps" : "raised during training"
            print(alarms.isEmpty ? "no alarms" : "\(alarms.count) alarm(s), \(alarmSource):")
            for alarm in alarms {
                print("  step \(alarm.declaredAt): \(alarm.summary)\n    likely cures: \(alarm.advice)")
            }
            let replayedModes = Set(diagnosis.replayedAlarms.map(\.mode)), recordedModes = Set(history.alarms.map(\.mode))
            if !history.alarms.isEmpty && replayedModes != recordedModes {
                print("replayed from the logged steps (the states above):")
                for alarm in diagnosis.replayedAlarms { print("  step \(alarm.declaredAt): \(alarm.summary)") }
            }
            if let html { print("report: \(html)") }
        }
        if diagnosis.collapsed { throw ExitCode(3) }
    }
}
