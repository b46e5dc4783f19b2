// The training loop: batches of (augmented picture, one caption) pairs, forward through both
// towers, the loss, backward, clip, AdamW, clamp the temperature, then the collapse monitor.
// Evaluates on the validation split every epoch, keeps the best and the last model, and saves a
// state from which `resume` continues exactly (weights, moments, step, random state).
import Foundation
import Neural
import Text
import Vision
import Datasets

public final class Trainer {
    public let model: DualEncoder
    public let options: TrainingOptions
    public let train: ImageStore
    public let validation: ImageStore?
    public let monitor: CollapseMonitor
    /// Where models and the resumable state go; nil keeps everything in memory (tests).
    public let files: TrainingFiles?
    public let stepsPerEpoch: Int
    public let totalSteps: Int

    let optimizer: AdamW
    let schedule: WarmupCosineSchedule
    /// Completed optimiser steps.
    public internal(set) var step = 0
    var rng: SeededGenerator
    var epochOrder: [Int] = []
    var learningRateScale = 1.0
    var rollbacks = 0
    public internal(set) var bestRecall = -1.0
    private var snapshot: TrainingSnapshot?
    /// captionKeys[item][c]: one id per distinct caption text, so duplicates are not negatives.
    private let captionKeys: [[Int]]
    /// Test-only faults injected into every step (see `FaultInjection`); nil in real runs.
    var faults: FaultInjection?
    /// The parameter groups the monitor sees: one per layer, table or scalar.
    private let layers: [ParameterGroup]
    /// As many training pictures as validation has, evaluated beside it (nil without validation).
    private let trainingProbe: ImageStore?

    /// `thresholds` nil scales the monitor's to the run (`CollapseThresholds.forRun`).
    public init(model: DualEncoder, train: ImageStore, validation: ImageStore?, options: TrainingOptions,
                files: TrainingFiles? = nil, thresholds: CollapseThresholds? = nil) {
        precondition(options.problem() == nil, options.problem() ?? "")
        precondition(train.count >= 2, "training needs at least two pictures, got \(train.count)")
        precondition(train.side == model.configuration.imageSize,
                     "pictures are \(train.side) px, the model takes \(model.configuration.imageSize)")
        self.model = model
        self.options = options
        self.train = train
        self.validation = validation
        self.files = files
        stepsPerEpoch = options.stepsPerEpoch(images: train.count)
        totalSteps = stepsPerEpoch * options.epochs
        let lr = Float(options.learningRate)
        schedule = WarmupCosineSchedule(baseRate: lr, warmupSteps: options.resolvedWarmup(totalSteps: totalSteps),
                                        totalSteps: totalSteps, finalRate: lr * Float(options.finalLearningRateFraction))
        optimizer = AdamW(groups: ParameterGroup.byRole(model.parameters, weightDecay: Float(options.weightDecay),
                                                        embeddingLearningRateMultiplier: Float(options.embeddingLearningRateMultiplier)))
        monitor = CollapseMonitor(loss: options.loss, logScaleRange: 0...model.configuration.maxLogScale,
                                  thresholds: thresholds ?? .forRun(totalSteps: totalSteps))
        rng = SeededGenerator(seed: options.seed)
        layers = ParameterGroup.byNamePrefix(model.parameters, depth: 2)
        trainingProbe = Self.probe(of: train, size: validation?.count ?? 0, seed: options.seed)
        var ids: [String: Int] = [:]
        captionKeys = train.items.map { item in
            item.captions.map { caption in
                let key = DataCheck.normalised(caption)
                if let id = ids[key] { return id }
                ids[key] = ids.count
                return ids.count - 1
            }
        }
    }

    public var epoch: Int { step / stepsPerEpoch }

    /// Trains until the planned number of steps, a stop request, or a collapse that the policy
    /// stops on. `shouldStop` is polled after every step (Ctrl-C). A run that reaches its end
    /// with a mode collapsed in the monitor's final verdict returns `.collapsed` too.
    public func run(events: (TrainingEvent) -> Void, shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        events(.planned(TrainingPlan(trainImages: train.count, validationImages: validation?.count ?? 0,
                                     batchSize: options.batchSize, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps,
                                     startStep: step, vocabularySize: model.vocabulary.count, loss: options.loss,
                                     thresholds: monitor.thresholds)))
        var window = (pairs: 0, start: DispatchTime.now().uptimeNanoseconds)
        while step < totalSteps {
            let position = step % stepsPerEpoch
            if position == 0 || epochOrder.count != train.count { epochOrder = rng.permutation(of: train.count) }
            let start = position * options.batchSize
            let indices = Array(epochOrder[start..<min(train.count, start + options.batchSize)])
            let result = trainStep(on: indices)
            step += 1
            window.pairs += indices.count
            let raised = monitor.observe(result.figures)

            // The step's record goes out before any rollback renumbers the steps.
            if step % options.logEvery == 0 || step == totalSteps {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - window.start) / 1e9
                let temperature: Double? = options.loss == .nPair ? 1 / Double(model.logitScale) : nil
                events(.step(StepRecord(step: step, epoch: epoch, loss: result.figures.loss,
                                        learningRate: Double(result.learningRate), temperature: temperature,
                                        gradientNorm: result.gradientNorm,
                                        pairsPerSecond: Double(window.pairs) / max(seconds, 1e-9),
                                        health: monitor.overall, monitor: result.figures)))
                window = (0, DispatchTime.now().uptimeNanoseconds)
            }
            if let outcome = try apply(raised, events) { return outcome }
            if monitor.isSettled && step % max(10, stepsPerEpoch / 4) == 0 { snapshot = takeSnapshot() }
            if step % stepsPerEpoch == 0, let outcome = try endEpoch(events) { return outcome }
            if shouldStop() && step < totalSteps {
                try saveState(events)
                events(.verdict(TrainingVerdict(step: step, states: monitor.states)))
                return .interrupted
            }
        }
        for alarm in monitor.finish() { events(.alarm(alarm)) }
        let states = monitor.states
        events(.verdict(TrainingVerdict(step: step, states: states)))
        if let collapsed = monitor.modes.first(where: { states[$0] == .collapsed }) { return .collapsed(collapsed) }
        return .completed
    }

    /// Reports `alarms` and applies the collapse policy to the collapsed ones; returns the
    /// outcome when training must stop. A rollback cannot mend a model that never learned or data
    /// that cannot be learned, so "learned nothing" always stops under `stop` and `rollback`.
    private func apply(_ alarms: [CollapseAlarm], _ events: (TrainingEvent) -> Void) throws -> TrainingOutcome? {
        for alarm in alarms { events(.alarm(alarm)) }
        guard let alarm = alarms.first(where: { $0.health == .collapsed }) else { return nil }
        switch options.onCollapse {
        case .warn:
            return nil
        case .stop:
            return try stop(on: alarm, events)
        case .rollback:
            guard alarm.mode != .learnedNothing, rollbacks < options.maxRollbacks, let snapshot else {
                return try stop(on: alarm, events)
            }
            rollbacks += 1
            restore(snapshot)
            learningRateScale *= 0.5
            monitor.reset()
            events(.rolledBack(toStep: step, learningRateScale: learningRateScale))
            return nil
        }
    }

    private func stop(on alarm: CollapseAlarm, _ events: (TrainingEvent) -> Void) throws -> TrainingOutcome {
        try saveState(events)
        events(.verdict(TrainingVerdict(step: step, states: monitor.states)))
        return .collapsed(alarm.mode)
    }

    /// What one step hands the loop: the monitor's figures, the rate it ran at and the global
    /// gradient norm before clipping.
    struct StepResult {
        var figures: CollapseFigures
        var learningRate: Float
        var gradientNorm: Double
    }

    /// One optimiser step on the pictures `indices` (one random caption each).
    func trainStep(on indices: [Int]) -> StepResult {
        let batchSeed = rng.next()
        var captions: [String] = [], captionIDs: [Int] = []
        for i in indices {
            let c = rng.nextIndex(below: train.items[i].captions.count)
            captions.append(train.items[i].captions[c])
            captionIDs.append(captionKeys[i][c])
        }
        let images = preparedBatch(indices, seed: batchSeed)
        let encoded = model.vocabulary.encodeBatch(captions, maxLength: model.configuration.maxTokens)
        let mask = DuplicateMask(imageKeys: indices, captionKeys: captionIDs)
        let learningRate = schedule.rate(at: step) * Float(learningRateScale)
        var optimization = OptimizationStep(model: model, optimizer: optimizer, loss: options.loss, clipNorm: options.clipNorm)
        (optimization.faults, optimization.step, optimization.layers) = (faults, step + 1, layers)
        let out = optimization.run(images: images, text: encoded, mask: mask, learningRate: learningRate)
        let figures = CollapseFigures(step: step + 1, loss: out.result.loss, similarity: out.result.similarity,
                                      image: out.imageEmbeddings, text: out.textEmbeddings,
                                      logScale: model.logScale.value[0], gradientNorms: out.towerNorms,
                                      groups: out.groups, learningRateFraction: Double(learningRate) / options.learningRate,
                                      excluded: mask.excluded)
        return StepResult(figures: figures, learningRate: learningRate, gradientNorm: out.totalNorm)
    }

    /// The pictures at `indices`, augmented (each with its own generator, in parallel) and
    /// prepared as the model prepares pictures, as an NHWC batch.
    func preparedBatch(_ indices: [Int], seed: UInt64) -> Tensor {
        let preprocessing = model.configuration.preprocessing
        var pictures = [RGBImage?](repeating: nil, count: indices.count)
        let augmentation = options.augmentation
        pictures.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            let workers = Threads.count
            DispatchQueue.concurrentPerform(iterations: workers) { part in
                for slot in stride(from: part, to: indices.count, by: workers) {
                    var generator = SeededGenerator(seed: seed ^ (UInt64(slot) &* 0x9E37_79B9_7F4A_7C15))
                    base[slot] = augmentation.apply(to: train.images[indices[slot]], side: preprocessing.side,
                                                    filter: preprocessing.filter, using: &generator)
                }
            }
        }
        return preprocessing.batch(pictures.map { $0! })
    }

    /// Recall@K on `store` with every caption of every picture.
    public func evaluate(_ store: ImageStore) -> RecallReport {
        RetrievalEvaluation.evaluate(model: model, store: store)
    }

    /// Evaluates validation (and as many training pictures) after an epoch, lets the monitor
    /// judge the outcome, keeps the best and the last model; returns the outcome when the
    /// collapse policy stops the run.
    private func endEpoch(_ events: (TrainingEvent) -> Void) throws -> TrainingOutcome? {
        if let validation, validation.count > 0 {
            let report = evaluate(validation)
            let probe = trainingProbe.map(evaluate)
            let isBest = report.meanRecall > bestRecall
            if isBest { bestRecall = report.meanRecall }
            events(.evaluated(EvaluationRecord(step: step, epoch: epoch, recall: report, training: probe, isBest: isBest)))
            if isBest, let files { try ModelFile.write(model, to: files.best); events(.saved(files.best)) }
            let raised = monitor.observe(evaluation: report, training: probe, step: step, final: step == totalSteps)
            if let files {
                try ModelFile.write(model, to: files.last)
                try saveState(events)
            }
            return try apply(raised, events)
        }
        if let files {
            try ModelFile.write(model, to: files.best)
            events(.saved(files.best))
            try ModelFile.write(model, to: files.last)
            try saveState(events)
        }
        return nil
    }

    /// `size` training pictures drawn once with `seed`, evaluated beside validation; nil without one.
    private static func probe(of train: ImageStore, size: Int, seed: UInt64) -> ImageStore? {
        guard size >= 2 else { return nil }
        var generator = SeededGenerator(seed: seed ^ 0x7072_6F62_6500)
        let picked = Array(generator.permutation(of: train.count).prefix(size)).sorted()
        return ImageStore(side: train.side, images: picked.map { train.images[$0] }, items: picked.map { train.items[$0] })
    }

    private func saveState(_ events: (TrainingEvent) -> Void) throws {
        guard let files else { return }
        try TrainingState.write(self, to: files.state)
        events(.saved(files.state))
    }

    // MARK: Snapshots for rollback

    private func takeSnapshot() -> TrainingSnapshot {
        TrainingSnapshot(values: (model.parameters + model.buffers).map(\.value), optimizer: optimizer.state(),
                         step: step, rng: rng)
    }

    /// Restores `s`, then reshuffles: the same batches would lead the same way again.
    private func restore(_ s: TrainingSnapshot) {
        for (p, v) in zip(model.parameters + model.buffers, s.values) { p.value = v }
        try? optimizer.load(state: s.optimizer)
        step = s.step
        var generator = s.rng
        rng = SeededGenerator(seed: generator.next() ^ (UInt64(rollbacks) &* 0x9E37_79B9_7F4A_7C15))
        epochOrder = rng.permutation(of: train.count)
    }
}

/// Everything a rollback restores.
private struct TrainingSnapshot {
    var values: [Tensor]
    var optimizer: [String: Tensor]
    var step: Int
    var rng: SeededGenerator
}

/// The files a run writes beside `--out MODEL`: the best model at MODEL, the last one and the
/// resumable state next to it.
public struct TrainingFiles: Sendable {
    public let best: URL
    public let last: URL
    public let state: URL

    public init(model: URL) {
        best = model
        let base = model.deletingPathExtension()
        last = base.appendingPathExtension("last.safetensors")
        state = base.appendingPathExtension("state.safetensors")
    }
}
