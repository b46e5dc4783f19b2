// The metrics file read back (a running training's cut-short last line tolerated), the replayed
// diagnosis `retrieve doctor` prints, and the self-contained HTML report.
import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

@Suite(.serialized)
struct TrainingReportTests {
    /// A short real run with `faults`, its metrics written as `retrieve train` writes them.
    private func metricsOfRun(steps: Int, faults: FaultInjection?, logEvery: Int) throws -> (Data, CollapseRun.Result) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-metrics-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let run = try CollapseRun.run(steps: steps, faults: faults)
        let log = try MetricsLog(url: url, truncate: true)
        var alarms = run.alarms[...]
        for record in run.records where record.step % logEvery == 0 {
            while let a = alarms.first, a.declaredAt <= record.step { try log.append(MetricsHistory.AlarmLine(alarm: a)); alarms = alarms.dropFirst() }
            try log.append(record)
        }
        var recall = RecallReport(textToImage: DirectionalRecall(standings: [(0, 0), (3, 0), (8, 0), (29, 0)]),
                                  imageToText: DirectionalRecall(standings: [(1, 0), (2, 0), (11, 0), (39, 0)]), images: 100, captions: 200)
        try log.append(EvaluationRecord(step: steps / 2, epoch: 1, recall: recall, isBest: true))
        recall.textToImage.r1 = 15
        try log.append(EvaluationRecord(step: steps, epoch: 2, recall: recall, isBest: true))
        return (try Data(contentsOf: url), run)
    }

    @Test func aCutShortLastLineIsSkippedAndDamageElsewhereNamesTheLine() throws {
        let (data, run) = try metricsOfRun(steps: 12, faults: nil, logEvery: 1)
        let whole = try MetricsHistory.parse(data, path: "m.jsonl")
        #expect(whole.steps.count == run.records.count && whole.evaluations.count == 2)
        #expect(whole.steps.last?.monitor == run.records.last?.monitor)
        #expect(!whole.truncatedLastLine)

        let cut = try MetricsHistory.parse(data.prefix(data.count - 40), path: "m.jsonl")
        #expect(cut.truncatedLastLine && cut.evaluations.count == 1 && cut.steps.count == whole.steps.count)

        var damaged = data
        damaged.insert(contentsOf: Data("{\"kind\":\"step\",\"oops\n".utf8), at: 0)
        #expect {
            _ = try MetricsHistory.parse(damaged, path: "m.jsonl")
        } throws: { "\($0)".contains("m.jsonl") && "\($0)".contains("line 1") }
    }

    @Test func aRollbackUndoesTheRecordsAfterTheStepItWentBackTo() throws {
        let (data, _) = try metricsOfRun(steps: 12, faults: nil, logEvery: 1)
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        func stepLine(_ n: Int) throws -> Int {
            try #require(lines.firstIndex { $0.contains("\"kind\":\"step\"") && $0.contains("\"step\":\(n),") })
        }
        // Steps 1–8, a rollback to step 5, then steps 6–8 again (the file's own lines 6–8 stand in
        // for the new branch), then 9–12.
        let replayed = try (6...8).map { lines[try stepLine($0)] }
        lines.insert(contentsOf: ["{\"kind\":\"rollback\",\"to_step\":5,\"lr_scale\":0.5}"] + replayed, at: try stepLine(8) + 1)
        let history = try MetricsHistory.parse(Data((lines.joined(separator: "\n") + "\n").utf8), path: "m.jsonl")
        #expect(history.rollbacks.map(\.toStep) == [5])
        #expect(history.steps.map(\.step) == Array(1...12), "the abandoned steps 6–8 are gone, the charts run forward")
    }

    @Test func replayFindsTheCollapseEvenFromEveryFifthStep() throws {
        var faults = FaultInjection()
        faults.constantImage = true
        let (data, _) = try metricsOfRun(steps: 60, faults: faults, logEvery: 5)
        var history = try MetricsHistory.parse(data, path: "m.jsonl")
        #expect(history.alarms.map(\.mode) == [.embedding])
        history.alarms = []  // judge the figures alone
        let diagnosis = CollapseDiagnosis.replay(history, thresholds: CollapseRun.thresholds)
        #expect(diagnosis.stride == 5)
        #expect(diagnosis.states["embedding"] == .collapsed, "\(diagnosis.states)")
        #expect(diagnosis.replayedAlarms.map(\.mode) == [.embedding])
        #expect(diagnosis.collapsed)
    }

    @Test func replayOfAHealthyRunIsHealthy() throws {
        let (data, _) = try metricsOfRun(steps: 40, faults: nil, logEvery: 2)
        let diagnosis = CollapseDiagnosis.replay(try MetricsHistory.parse(data, path: "m.jsonl"), thresholds: CollapseRun.thresholds)
        #expect(!diagnosis.collapsed && diagnosis.replayedAlarms.isEmpty, "\(diagnosis.replayedAlarms.map(\.summary))")
        // 40 steps judge most step modes; the outcome and the effective rank wait for the time to
        // learn (100 steps here), a stall and overfitting need longer or evaluations.
        let notJudged = Set(diagnosis.states.filter { $0.value == .notJudged }.keys)
        #expect(notJudged == ["learned_nothing", "dimensional", "stalled_loss", "overfitting"], "\(diagnosis.states)")
        #expect(diagnosis.states.values.allSatisfy { $0 <= .healthy })
    }

    @Test func reportIsSelfContainedWithEveryChartAndTheAlarms() throws {
        var faults = FaultInjection()
        faults.gradientScale = ("image.", 100)
        let (data, _) = try metricsOfRun(steps: 30, faults: faults, logEvery: 1)
        let history = try MetricsHistory.parse(data, path: "m.jsonl")
        let diagnosis = CollapseDiagnosis.replay(history, thresholds: CollapseRun.thresholds)
        let html = TrainingReport.html(history, title: "run <1>", diagnosis: diagnosis)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("run &lt;1&gt;"))
        // No script, no external resource of any kind.
        for forbidden in ["<script", "src=", "href=", "@import", "url("] { #expect(!html.contains(forbidden), "\(forbidden)") }
        #expect(html.components(separatedBy: "<svg").count - 1 == 16)
        for title in ["Loss", "Temperature", "Learning rate", "Recall@K", "positive and negative cosine", "Score spread",
                      "Tower spread", "Effective rank", "Gradient norms", "Gradient-norm ratio", "by parameter group",
                      "Update / value ratio", "Top-1 retrieval within each batch", "rank score"] {
            #expect(html.contains(title), "chart \(title) missing")
        }
        // The alarm: a marker on the charts and a table row with its advice.
        #expect(html.contains(">gradient_imbalance<") && html.contains("give the towers their own learning rates"))
        #expect(html.contains("stroke-dasharray=\"3 3\"") || html.contains("class=\"marker\""))
        // Recall points: both directions.
        #expect(html.contains("t2i R@1") && html.contains("i2t R@10"))

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-report-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: url) }
        try TrainingReport.write(history, title: "r", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8).contains("</html>"))
        #expect(TrainingReport.url(besideModel: URL(fileURLWithPath: "/x/m.safetensors")).path == "/x/m.report.html")
    }
}
