// Turns training events into what a person watches: a progress bar with epoch, loss,
// temperature, pairs/s, health and ETA; one line per evaluation and per alarm; metrics lines;
// and the final summary (text or JSON) on stdout.
import Foundation
import Retrieval

final class TrainingReporter {
    private let trainer: Trainer
    private let log: MetricsLog
    private let json: Bool
    private var bar: ProgressBar?
    private var evaluations: [EvaluationRecord] = []
    private var verdict: TrainingVerdict?
    private let started = Date()

    init(trainer: Trainer, log: MetricsLog, json: Bool) {
        self.trainer = trainer
        self.log = log
        self.json = json
    }

    func handle(_ event: TrainingEvent) {
        switch event {
        case .planned(let plan):
            try? log.append(plan)
            if plan.validationImages == 0 {
                Console.error("note: no validation pictures: the monitor judges learning from each batch's own retrieval (top-1 among the batch against chance 1/\(plan.batchSize)), and cannot judge overfitting")
            }
            bar = ProgressBar("train", total: plan.totalSteps, unit: "step")
            bar?.update(plan.startStep)
        case .step(let record):
            try? log.append(record)
            let temperature = record.temperature.map { String(format: " T %.4f", $0) } ?? ""
            let suffix = String(format: "epoch %d/%d loss %.3f%@ %.0f pairs/s %@", record.epoch + (record.step % trainer.stepsPerEpoch == 0 ? 0 : 1),
                                trainer.options.epochs, record.loss, temperature, record.pairsPerSecond,
                                record.health.rawValue)
            bar?.update(record.step, suffix)
        case .evaluated(let record):
            try? log.append(record)
            evaluations.append(record)
            let r = record.recall
            Console.error(String(format: "\repoch %d: validation t2i R@1/5/10 %.1f/%.1f/%.1f  i2t %.1f/%.1f/%.1f%@",
                                 record.epoch, r.textToImage.r1, r.textToImage.r5, r.textToImage.r10,
                                 r.imageToText.r1, r.imageToText.r5, r.imageToText.r10, record.isBest ? "  (best so far)" : ""))
        case .alarm(let alarm):
            try? log.append(MetricsHistory.AlarmLine(alarm: alarm))
            Console.error("\n\(alarm.summary)\n  likely cures: \(alarm.advice)")
        case .rolledBack(let step, let scale):
            try? log.append(RollbackRecord(toStep: step, learningRateScale: scale))
            Console.error("rolled back to step \(step) and reshuffled; learning rate now ×\(scale)")
        case .saved:
            break
        case .verdict(let record):
            try? log.append(record)
            verdict = record
        }
    }

    /// "collapsed: a, b · healthy: c · not judged: d", the modes in the monitor's order.
    private func verdictLine(_ verdict: TrainingVerdict) -> String {
        let order: [Health] = [.collapsed, .warning, .healthy, .notJudged]
        return order.compactMap { health in
            let modes = trainer.monitor.modes.filter { verdict.states[$0.rawValue] == health }.map(\.rawValue)
            let name = health == .notJudged ? "not judged" : health.rawValue
            return modes.isEmpty ? nil : "\(name): " + modes.joined(separator: ", ")
        }.joined(separator: " · ")
    }

    func finish(outcome: TrainingOutcome, files: TrainingFiles, metrics: URL) {
        bar?.finish(at: trainer.step)  // where it stopped, not the planned end
        let report = writeReport(files: files, metrics: metrics)
        let best = evaluations.filter(\.isBest).last
        let alarms = trainer.monitor.alarms
        if json {
            struct Summary: Encodable {
                let outcome: String; let collapsedMode: String?; let steps: Int; let seconds: Double
                let model: String; let last: String; let state: String; let metrics: String
                let best: EvaluationRecord?; let alarms: [CollapseAlarm]; let verdict: [String: Health]?
                let report: String?
            }
            var name = "completed", mode: String?
            switch outcome {
            case .completed: break
            case .interrupted: name = "interrupted"
            case .collapsed(let m): name = "collapsed"; mode = m.rawValue
            }
            try? Console.printJSON(Summary(outcome: name, collapsedMode: mode, steps: trainer.step, seconds: Date().timeIntervalSince(started),
                                           model: files.best.path, last: files.last.path, state: files.state.path,
                                           metrics: metrics.path, best: best, alarms: alarms, verdict: verdict?.states,
                                           report: report?.path))
            return
        }
        switch outcome {
        case .completed: print("trained \(trainer.step) steps in \(duration(Date().timeIntervalSince(started)))")
        case .interrupted: print("interrupted at step \(trainer.step); continue with the same command and --resume")
        case .collapsed(let mode) where trainer.step == trainer.totalSteps:
            print("trained \(trainer.step) steps in \(duration(Date().timeIntervalSince(started))), but the run ended collapsed: \(mode.rawValue) (see the advice above)")
        case .collapsed(let mode): print("stopped at step \(trainer.step): \(mode.rawValue) collapse (state saved; see the advice above)")
        }
        if let best {
            let r = best.recall
            print(String(format: "best validation (epoch %d): text→image R@1 %.1f R@5 %.1f R@10 %.1f medr %.0f | image→text R@1 %.1f R@5 %.1f R@10 %.1f",
                         best.epoch, r.textToImage.r1, r.textToImage.r5, r.textToImage.r10, r.textToImage.medianRank,
                         r.imageToText.r1, r.imageToText.r5, r.imageToText.r10))
        }
        print(alarms.isEmpty ? "collapse monitor: no alarms" : "collapse monitor: \(counted(alarms.count, "alarm")):")
        for alarm in alarms { print("  step \(alarm.declaredAt): \(alarm.summary)") }
        if let verdict { print("monitor verdict: \(verdictLine(verdict))") }
        print("model:   \(files.best.path)")
        print("metrics: \(metrics.path)")
        if let report { print("report:  \(report.path)") }
    }

    /// MODEL.report.html from the metrics file as it now stands; nil (with a note) on failure,
    /// which never fails the training.
    private func writeReport(files: TrainingFiles, metrics: URL) -> URL? {
        let url = TrainingReport.url(besideModel: files.best)
        do {
            let history = try MetricsHistory.read(contentsOf: metrics)
            try TrainingReport.write(history, title: "Training report: \(files.best.lastPathComponent)", to: url)
            return url
        } catch {
            Console.error("could not write the HTML report: \(error)")
            return nil
        }
    }
}
