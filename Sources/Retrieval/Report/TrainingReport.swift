// The self-contained HTML report of a training run, built from its metrics lines: charts of the
// loss, temperature, learning rate, Recall@K and every collapse-monitor figure over the steps,
// alarms marked on each chart, and a table of the alarms with their advice. Inline SVG and CSS
// only: no script, no network.
import Foundation
import Neural

public enum TrainingReport {
    /// The report's HTML for `history`; `diagnosis` (a replay) adds the per-mode states.
    public static func html(_ history: MetricsHistory, title: String, diagnosis: CollapseDiagnosis? = nil) -> String {
        let steps = history.steps
        func line(_ name: String, _ colour: String, dashed: Bool = false, _ value: (StepRecord) -> Double) -> SVGChart.Series {
            SVGChart.Series(name: name, points: steps.map { (Double($0.step), value($0)) }, colour: colour, dashed: dashed)
        }
        let alarms = history.alarms.isEmpty ? (diagnosis?.replayedAlarms ?? []) : history.alarms
        let markers = alarms.map {
            SVGChart.Marker(x: Double($0.declaredAt), label: "\($0.mode.rawValue)\($0.health == .collapsed ? "" : "?")",
                            colour: $0.health == .collapsed ? "#c0392b" : "#d68910")
        }
        func chart(_ title: String, log: Bool = false, _ series: [SVGChart.Series]) -> String {
            SVGChart(title: title, series: series, markers: markers, logScale: log).render()
        }
        func recall(_ name: String, _ colour: String, dashed: Bool, _ value: (RecallReport) -> Double) -> SVGChart.Series {
            SVGChart.Series(name: name, points: history.evaluations.map { (Double($0.step), value($0.recall)) },
                            colour: colour, dashed: dashed, dots: true)
        }
        let blue = "#1f6fb2", orange = "#e67e22", green = "#27ae60", grey = "#7f8c8d", purple = "#8e44ad"
        var gradientSeries: [SVGChart.Series] = []
        let groups = Set(steps.flatMap { $0.monitor.gradientNorms.keys }).sorted()
        for (k, group) in groups.enumerated() {
            gradientSeries.append(line("\(group) gradient norm", [blue, orange, green, purple][k % 4]) { $0.monitor.gradientNorms[group] ?? .nan })
        }
        gradientSeries.append(line("total (before clipping)", grey, dashed: true) { $0.gradientNorm })

        let groupNames = Set(steps.flatMap { $0.monitor.groups.keys }).sorted()
        let palette = [blue, orange, green, purple, grey, "#c0392b", "#16a085", "#d4ac0d"]
        func groupSeries(_ value: @escaping (GroupGradient) -> Double) -> [SVGChart.Series] {
            groupNames.enumerated().map { k, name in
                line(name, palette[k % palette.count], dashed: k >= palette.count) { $0.monitor.groups[name].map(value) ?? .nan }
            }
        }
        func rankScore(_ name: String, _ colour: String, dashed: Bool, _ value: @escaping (EvaluationRecord) -> Double?) -> SVGChart.Series {
            SVGChart.Series(name: name, points: history.evaluations.compactMap { e in value(e).map { (Double(e.step), $0) } },
                            colour: colour, dashed: dashed, dots: true)
        }
        var charts = [
            chart("Loss (dashed: ln B, the loss of all-equal scores)", [line("loss", blue) { $0.loss },
                                                                      line("ln B", grey, dashed: true) { $0.monitor.chanceLoss }]),
        ]
        if steps.contains(where: { $0.temperature != nil }) {
            charts.append(chart("Temperature (1 / logit scale)", [line("temperature", orange) { $0.temperature ?? .nan }]))
        }
        charts += [
            chart("Learning rate", [line("learning rate", green) { $0.learningRate }]),
            chart("Validation Recall@K (%), per evaluation", [
                recall("t2i R@1", blue, dashed: false) { $0.textToImage.r1 }, recall("t2i R@5", green, dashed: false) { $0.textToImage.r5 },
                recall("t2i R@10", purple, dashed: false) { $0.textToImage.r10 }, recall("i2t R@1", blue, dashed: true) { $0.imageToText.r1 },
                recall("i2t R@5", green, dashed: true) { $0.imageToText.r5 }, recall("i2t R@10", purple, dashed: true) { $0.imageToText.r10 }]),
            chart("Mean positive and negative cosine, and their gap", [line("positive", green) { $0.monitor.meanPositive },
                                                                      line("negative", orange) { $0.monitor.meanNegative },
                                                                      line("gap", blue) { $0.monitor.gap }]),
            chart("Score spread (std of all B² scores)", [line("score std", blue) { $0.monitor.scoreSpread }]),
            chart("Tower spread (0: every input maps to one point)", [line("image", blue) { $0.monitor.imageSpread },
                                                                     line("text", orange) { $0.monitor.textSpread }]),
            chart("Effective rank (participation ratio of the batch covariance)", [line("image", blue) { $0.monitor.imageRank },
                                                                                  line("text", orange) { $0.monitor.textRank }]),
            chart("Log logit scale", [line("log-scale", purple) { $0.monitor.logScale }]),
            chart("Gradient norms by group (log scale)", log: true, gradientSeries),
            chart("Gradient-norm ratio: towers, and the largest parameter group over the median one (log scale)", log: true,
                  [line("image / text towers", orange) { $0.monitor.gradientRatio },
                   line("largest group / median group", blue) { $0.monitor.groupRatio }]),
            chart("Gradient norm by parameter group (log scale)", log: true, groupSeries(\.gradientNorm)),
            chart("Update / value ratio by parameter group, ‖Δp‖/‖p‖ per step (log scale)", log: true, groupSeries(\.updateRatio)),
            chart("Top-1 retrieval within each batch (dashed: chance)", [line("top-1", blue) { $0.monitor.batchTop1 },
                                                                          line("chance", grey, dashed: true) { $0.monitor.batchTop1Chance }]),
            chart("Text→image rank score per evaluation (0: a random ranking, 1: perfect; dashed: 2 standard errors above chance)", [
                rankScore("validation", blue, dashed: false) { $0.recall.rankScore },
                rankScore("training pictures", orange, dashed: false) { $0.training?.rankScore },
                rankScore("chance + 2 s.e.", grey, dashed: true) { 2 * $0.recall.rankScoreStandardError }]),
            chart("Throughput (pairs/s)", [line("pairs/s", grey) { $0.pairsPerSecond }]),
        ]

        var body = "<h1>\(escapeHTML(title))</h1>\n"
        let last = steps.last
        body += "<p class=\"meta\">\(steps.count) logged steps"
        if let last { body += " up to step \(last.step) (epoch \(last.epoch)), batch \(last.monitor.batchSize), last loss \(String(format: "%.4g", last.loss)), health <b>\(last.health.rawValue)</b>" }
        body += "; \(history.evaluations.count) evaluations"
        if history.truncatedLastLine { body += "; the last line was incomplete (a running training) and was skipped" }
        body += ".</p>\n"
        if let best = history.evaluations.max(by: { $0.recall.meanRecall < $1.recall.meanRecall }) {
            let r = best.recall
            body += String(format: "<p class=\"meta\">Best validation (step %d): text→image R@1 %.1f R@5 %.1f R@10 %.1f · image→text R@1 %.1f R@5 %.1f R@10 %.1f</p>\n",
                           best.step, r.textToImage.r1, r.textToImage.r5, r.textToImage.r10, r.imageToText.r1, r.imageToText.r5, r.imageToText.r10)
        }
        if let states = diagnosis?.finalStates ?? history.verdict?.states {
            let loss = diagnosis?.loss ?? history.plan?.loss ?? .nPair
            body += "<h2>State of each failure mode</h2>\n<table><tr><th>mode</th><th>state</th></tr>"
            for mode in CollapseMode.applicable(to: loss) {
                let state = states[mode.rawValue] ?? .notJudged
                let name = state == .notJudged ? "not judged" : state.rawValue
                body += "<tr><td>\(mode.rawValue)</td><td class=\"\(state.rawValue)\">\(name)</td></tr>"
            }
            body += "</table>\n"
        }
        body += "<h2>Alarms</h2>\n"
        if alarms.isEmpty {
            body += "<p>The collapse monitor raised no alarm.</p>\n"
        } else {
            body += "<table><tr><th>declared at</th><th>since</th><th>mode</th><th>state</th><th>what</th><th>likely cures</th></tr>"
            for a in alarms {
                body += "<tr><td>\(a.declaredAt)</td><td>\(a.sinceStep)</td><td>\(a.mode.rawValue)</td><td class=\"\(a.health.rawValue)\">\(a.health.rawValue)</td><td>\(escapeHTML(a.summary))</td><td>\(escapeHTML(a.advice))</td></tr>"
            }
            body += "</table>\n"
        }
        body += "<h2>Charts</h2>\n<p class=\"meta\">Vertical lines mark alarms (red: collapse, amber: warning, label ending in ?).</p>\n"
        body += charts.map { "<div class=\"chart\">\($0)</div>" }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escapeHTML(title))</title>
            <style>
            body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:900px}
            h1{font-size:20px}h2{font-size:16px;margin-top:28px}.meta{color:#555}
            table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
            td.collapsed{color:#c0392b;font-weight:bold}td.warning{color:#b9770e;font-weight:bold}td.healthy{color:#1e8449}td.not_judged{color:#777;font-style:italic}
            .chart{margin:10px 0}svg .title{font-size:13px;font-weight:bold;fill:#222}svg .tick,svg .legend{font-size:11px;fill:#444}
            svg .note{font-size:12px;fill:#888}svg .mlabel{font-size:10px}svg .frame{fill:none;stroke:#999}
            svg .grid{stroke:#e5e5e5}svg .axis{stroke:#999}svg .marker{stroke-width:1.2;stroke-dasharray:3 3}
            </style></head><body>
            \(body)
            </body></html>

            """
    }

    /// Writes the report of `history` to `url` atomically.
    public static func write(_ history: MetricsHistory, title: String, diagnosis: CollapseDiagnosis? = nil, to url: URL) throws {
        try AtomicFile.write(Data(html(history, title: title, diagnosis: diagnosis).utf8), to: url)
    }

    /// Where a model's report goes: MODEL.report.html beside MODEL.safetensors.
    public static func url(besideModel model: URL) -> URL {
        model.deletingPathExtension().appendingPathExtension("report.html")
    }
}
