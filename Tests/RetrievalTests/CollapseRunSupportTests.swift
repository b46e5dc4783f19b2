// Shared by the collapse-run tests: small real training runs on 32-px pictures (the shapes of
// TrainerTests, or the icons) with a short monitor window or the one the trainer scales to the
// run, optional injected faults, and a record of what the monitor declared and when.
import Foundation
import Neural
import Text
import Vision
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

enum CollapseRun {
    /// Grace and window short enough for runs of a few dozen steps.
    static let thresholds: CollapseThresholds = {
        var t = CollapseThresholds()
        t.graceSteps = 10
        t.window = 10
        return t
    }()

    static let configuration = SmallShapes.configuration

    /// Generating the pictures is the slow part: made once for every run.
    static let shapes = SmallShapes.store(count: 1024)

    struct Result {
        var outcome: TrainingOutcome
        /// The first step each mode was declared (at any level).
        var declared: [CollapseMode: Int]
        var alarms: [CollapseAlarm]
        var rollbacks: [(toStep: Int, scale: Double)]
        var records: [StepRecord]
        var evaluations: [EvaluationRecord]
        var verdict: TrainingVerdict?
        var trainer: Trainer

        /// The range of the figures the thresholds judge, over the judged steps (after the grace).
        var ranges: String {
            let grace = trainer.monitor.thresholds.graceSteps
            let judged = records.map(\.monitor).filter { $0.step > grace }
            func r(_ name: String, _ v: (CollapseFigures) -> Double) -> String {
                let values = judged.map(v)
                return String(format: "%@ %.3g…%.3g", name, values.min() ?? .nan, values.max() ?? .nan)
            }
            return [r("gap", \.gap), r("score_std", \.scoreSpread), r("spread", { min($0.imageSpread, $0.textSpread) }),
                    r("rank", { min($0.imageRank, $0.textRank) }), r("ratio", \.gradientRatio),
                    r("log_scale", \.logScale), r("loss/lnB", { $0.loss / $0.chanceLoss }),
                    r("group_ratio", \.groupRatio), r("top1/chance", { $0.batchTop1 / $0.batchTop1Chance })]
                .joined(separator: ", ") + "; rank scores " + evaluations.map { e in
                    String(format: "%.2f/%.2f", e.recall.rankScore ?? .nan, e.training?.rankScore ?? .nan)
                }.joined(separator: " ")
        }

        /// One line for the log: what was declared when, and the last figures.
        var trace: String {
            let modes = declared.sorted { $0.value < $1.value }.map { "\($0.key.rawValue)@\($0.value)" }
            guard let f = records.last?.monitor else { return "declared \(modes)" }
            return "declared \(modes); last: loss \(f.loss) gap \(f.gap) std \(f.scoreSpread) spread \(f.imageSpread)/\(f.textSpread) rank \(f.imageRank)/\(f.textRank) logS \(f.logScale) ratio \(f.gradientRatio) pos \(f.meanPositive)"
        }
    }

    /// Trains for `steps` steps (or until the policy stops) and records the monitor's verdicts.
    /// `thresholds` nil lets the trainer scale them to the run, as `retrieve train` does.
    static func run(steps: Int, batch: Int = 64, seed: UInt64 = 0, faults: FaultInjection? = nil,
                    train: ImageStore = shapes, validation: ImageStore? = nil,
                    files: TrainingFiles? = nil, thresholds: CollapseThresholds? = thresholds,
                    configuration: ModelConfiguration = configuration,
                    _ adjust: (inout TrainingOptions) -> Void = { _ in }) throws -> Result {
        var options = TrainingOptions()
        options.batchSize = batch
        options.seed = seed
        options.logEvery = 1
        options.warmupSteps = 5
        let perEpoch = options.stepsPerEpoch(images: train.count)
        options.epochs = max(1, steps / perEpoch + (steps % perEpoch == 0 ? 0 : 1))
        adjust(&options)
        let vocabulary = Vocabulary.build(from: train.items.flatMap(\.captions))
        let model = DualEncoder(configuration: configuration, vocabulary: vocabulary, seed: seed)
        let trainer = Trainer(model: model, train: train, validation: validation, options: options, files: files,
                              thresholds: thresholds, progress: nil, hooks: faults)
        var result = Result(outcome: .completed, declared: [:], alarms: [], rollbacks: [], records: [],
                            evaluations: [], verdict: nil, trainer: trainer)
        result.outcome = try trainer.run(events: { event in
            switch event {
            case .alarm(let a):
                result.alarms.append(a)
                if result.declared[a.mode] == nil { result.declared[a.mode] = a.declaredAt }
            case .rolledBack(let step, let scale):
                result.rollbacks.append((step, scale))
            case .step(let r): result.records.append(r)
            case .evaluated(let e): result.evaluations.append(e)
            case .verdict(let v): result.verdict = v
            default: break
            }
        }, shouldStop: { trainer.step >= steps })
        return result
    }
}
