// The training loop: a batch of (augmented picture, one caption) pairs, one optimisation step,
// the collapse monitor on its figures, the collapse policy on its alarms; after every epoch an
// evaluation the monitor judges (and the score calibration the models carry), and the best and
// last models and the resumable state on disk; at the end the monitor's final verdict. Batches come from `TrainingBatches`, the step from
// `OptimizationStep`, the policy from `CollapseResponse`, the saved state from `TrainingState`.
// Under `mpirun` every rank runs this same loop on the same global batches, each preparing and
// forwarding its share: the step makes every figure and weight global, so every rank reaches
// the same decisions (rollbacks, stops, evaluations) without being told; only the rank whose
// caller passes `files` and listens to the events writes anything.
import Cluster
import Foundation
import Neural
import Datasets

public final class Trainer {
    public let model: DualEncoder
    public let options: TrainingOptions
    public let batches: TrainingBatches
    public let validation: ImageStore?
    public let monitor: CollapseMonitor
    /// Where models and the resumable state go; nil keeps everything in memory (tests).
    public let files: TrainingFiles?
    /// Seconds between saves of the resumable state in the middle of an epoch (it is saved at
    /// every epoch's end too), so a run killed outright (a rank lost, the machine gone) loses at
    /// most this much work; nil: only at epochs' ends and stops.
    public var stateInterval: Double? = 600
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    public private(set) var progress: TrainingProgress

    let optimizer: AdamW
    private let schedule: WarmupCosineSchedule
    private let response: CollapseResponse
    /// As many training pictures as validation has, evaluated beside it (nil without validation).
    private let trainingProbe: ImageStore?
    private let optimization: OptimizationStep
    /// The job's ranks; one process when not started by mpirun.
    public let communicator: Communicator?

    /// `thresholds` nil scales the monitor's to the run (`CollapseThresholds.forRun`);
    /// `communicator` (every rank passes the same data, model and options) trains one model over
    /// the ranks of an mpirun job.
    public convenience init(model: DualEncoder, train: ImageStore, validation: ImageStore?, options: TrainingOptions,
                            files: TrainingFiles? = nil, thresholds: CollapseThresholds? = nil,
                            communicator: Communicator? = nil) {
        self.init(model: model, train: train, validation: validation, options: options, files: files,
                  thresholds: thresholds, progress: nil, hooks: nil, communicator: communicator)
    }

    /// `progress` continues a saved run; `hooks` reach into every step (tests).
    init(model: DualEncoder, train: ImageStore, validation: ImageStore?, options: TrainingOptions,
         files: TrainingFiles?, thresholds: CollapseThresholds?, progress: TrainingProgress?, hooks: (any StepHooks)?,
         communicator: Communicator? = nil) {
        precondition(options.problem() == nil, options.problem() ?? "")
        precondition(train.count >= 2, "training needs at least two pictures, got \(train.count)")
        precondition(options.loss != .sigmoid || model.logitBias != nil,
                     "the sigmoid loss needs a model with a logit bias (ModelConfiguration.prepared(for: .sigmoid))")
        self.model = model
        self.options = options
        batches = TrainingBatches(store: train, augmentation: options.augmentation,
                                  preprocessing: model.configuration.preprocessing,
                                  vocabulary: model.vocabulary, maxTokens: model.configuration.maxTokens,
                                  subwords: model.text.subwordHasher)
        self.validation = validation
        self.files = files
        stepsPerEpoch = options.stepsPerEpoch(images: train.count)
        totalSteps = stepsPerEpoch * options.epochs
        self.progress = progress ?? TrainingProgress(seed: options.seed)
        let lr = Float(options.learningRate)
        schedule = WarmupCosineSchedule(baseRate: lr, warmupSteps: options.resolvedWarmup(totalSteps: totalSteps),
                                        totalSteps: totalSteps, finalRate: lr * Float(options.finalLearningRateFraction))
        optimizer = AdamW(groups: ParameterGroup.byRole(model.parameters, weightDecay: Float(options.weightDecay),
                                                        embeddingLearningRateMultiplier: Float(options.embeddingLearningRateMultiplier)))
        self.communicator = communicator
        optimization = OptimizationStep(model: model, optimizer: optimizer, loss: options.loss, clipNorm: options.clipNorm,
                                        layers: nil, hooks: hooks, communicator: communicator)
        monitor = CollapseMonitor(loss: options.loss, logScaleRange: 0...model.configuration.maxLogScale,
                                  thresholds: thresholds ?? .forRun(totalSteps: totalSteps))
        response = CollapseResponse(policy: options.onCollapse, maxRollbacks: options.maxRollbacks)
        trainingProbe = Self.probe(of: train, size: validation?.count ?? 0, seed: options.seed)
    }

    public var train: ImageStore { batches.store }
    /// Completed optimiser steps.
    public var step: Int { progress.step }
    public var epoch: Int { progress.step / stepsPerEpoch }

    /// Trains until the planned number of steps, a stop request, or a collapse that the policy
    /// stops on. `shouldStop` is polled after every step (Ctrl-C). A run that reaches its end
    /// with a mode collapsed in the monitor's final verdict returns `.collapsed` too.
    public func run(events: (TrainingEvent) -> Void, shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        events(.planned(TrainingPlan(trainImages: train.count, validationImages: validation?.count ?? 0,
                                     batchSize: options.batchSize, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps,
                                     startStep: progress.step, vocabularySize: model.vocabulary.count, loss: options.loss,
                                     thresholds: monitor.thresholds)))
        var window = (pairs: 0, start: DispatchTime.now().uptimeNanoseconds)
        var lastSave = DispatchTime.now().uptimeNanoseconds
        while progress.step < totalSteps {
            let indices = nextBatch()
            let result = trainStep(on: indices)
            progress.step += 1
            window.pairs += indices.count
            let raised = monitor.observe(result.figures)
            // The step's record goes out before any rollback renumbers the steps.
            if progress.step % options.logEvery == 0 || progress.step == totalSteps {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - window.start) / 1e9
                events(.step(record(result, pairsPerSecond: Double(window.pairs) / max(seconds, 1e-9))))
                window = (0, DispatchTime.now().uptimeNanoseconds)
            }
            if let outcome = try respond(to: raised, events) { return outcome }
            response.keep(snapshot, step: progress.step, interval: max(10, stepsPerEpoch / 4), settled: monitor.isSettled)
            if progress.step % stepsPerEpoch == 0 {
                if let outcome = try endEpoch(events) { return outcome }
                lastSave = DispatchTime.now().uptimeNanoseconds
            } else if let interval = stateInterval, files != nil,
                      Double(DispatchTime.now().uptimeNanoseconds - lastSave) / 1e9 >= interval {
                try saveState(events)
                lastSave = DispatchTime.now().uptimeNanoseconds
            }
            // Every rank stops at the same step when any rank was asked to (Ctrl-C reaches one).
            if progress.step < totalSteps && agreed(shouldStop()) {
                try saveState(events)
                events(.verdict(TrainingVerdict(step: progress.step, states: monitor.states)))
                return .interrupted
            }
        }
        for alarm in monitor.finish() { events(.alarm(alarm)) }
        let states = monitor.states
        events(.verdict(TrainingVerdict(step: progress.step, states: states)))
        if let collapsed = monitor.modes.first(where: { states[$0] == .collapsed }) { return .collapsed(collapsed) }
        return .completed
    }

    /// True on every rank when `flag` is true on one of them.
    private func agreed(_ flag: Bool) -> Bool {
        guard let communicator, communicator.isDistributed else { return flag }
        return communicator.any(flag)
    }

    /// The picture indices of the next batch, drawing a new epoch order when an epoch begins.
    private func nextBatch() -> [Int] {
        let position = progress.step % stepsPerEpoch
        if position == 0 || progress.epochOrder.count != train.count {
            progress.epochOrder = progress.rng.permutation(of: train.count)
        }
        let start = position * options.batchSize
        return Array(progress.epochOrder[start..<min(train.count, start + options.batchSize)])
    }

    /// Reports `alarms` and carries out the collapse policy's decision; returns the outcome when
    /// training must stop.
    private func respond(to alarms: [CollapseAlarm], _ events: (TrainingEvent) -> Void) throws -> TrainingOutcome? {
        for alarm in alarms { events(.alarm(alarm)) }
        switch response.decide(on: alarms, rollbacks: progress.rollbacks) {
        case .goOn:
            return nil
        case .stop(let mode):
            try saveState(events)
            events(.verdict(TrainingVerdict(step: progress.step, states: monitor.states)))
            return .collapsed(mode)
        case .rollBack(let snapshot):
            restore(snapshot)
            monitor.reset()
            events(.rolledBack(toStep: progress.step, learningRateScale: progress.learningRateScale))
            return nil
        }
    }

    /// What one step hands the loop: the monitor's figures, the rate it ran at and the global
    /// gradient norm before clipping.
    struct StepResult {
        var figures: CollapseFigures
        var learningRate: Float
        var gradientNorm: Double
    }

    /// One optimiser step on the pictures `indices` (one random caption each); in a distributed
    /// run this rank prepares and forwards only its share of them.
    func trainStep(on indices: [Int]) -> StepResult {
        let rows = communicator.flatMap { $0.isDistributed ? $0.share(of: indices.count) : nil }
        let batch = batches.batch(indices, using: &progress.rng, rows: rows)
        let mask = DuplicateMask(imageKeys: batch.imageKeys, captionKeys: batch.captionKeys)
        let learningRate = schedule.rate(at: progress.step) * Float(progress.learningRateScale)
        let out = optimization.run(images: batch.images, text: batch.text, mask: mask, learningRate: learningRate,
                           step: progress.step + 1)
        let figures = CollapseFigures(step: progress.step + 1, loss: out.result.loss, scores: out.scores,
                                      image: out.imageEmbeddings, text: out.textEmbeddings,
                                      logScale: model.logScale.value[0], gradientNorms: out.towerNorms,
                                      groups: out.groups, learningRateFraction: Double(learningRate) / options.learningRate,
                                      logitBias: model.logitBias?.value[0])
        return StepResult(figures: figures, learningRate: learningRate, gradientNorm: out.totalNorm)
    }

    private func record(_ result: StepResult, pairsPerSecond: Double) -> StepRecord {
        StepRecord(step: progress.step, epoch: epoch, loss: result.figures.loss, learningRate: Double(result.learningRate),
                   temperature: options.loss.hasTemperature ? 1 / Double(model.logitScale) : nil,
                   gradientNorm: result.gradientNorm, pairsPerSecond: pairsPerSecond,
                   health: monitor.overall, monitor: result.figures)
    }

    /// Recall@K on `store` with every caption of every picture.
    public func evaluate(_ store: ImageStore) -> RecallReport {
        RetrievalEvaluation.evaluate(model: model, store: store)
    }

    /// Evaluates validation (and as many training pictures) after an epoch, measures the score
    /// calibration on validation, lets the monitor judge the outcome, keeps the best and the last
    /// model (each with its own calibration) and the state; returns the outcome
    /// when the collapse policy stops the run.
    private func endEpoch(_ events: (TrainingEvent) -> Void) throws -> TrainingOutcome? {
        var raised: [CollapseAlarm] = []
        var isBest = true
        if let validation, validation.count > 0 {
            let scores = RetrievalEvaluation.embed(model: model, store: validation)
            let report = RetrievalEvaluation.report(scores)
            // The models written below carry the scores of this very state on validation.
            model.calibration = scores.calibration()
            let probe = trainingProbe.map(evaluate)
            isBest = report.meanRecall > progress.bestRecall
            if isBest { progress.bestRecall = report.meanRecall }
            events(.evaluated(EvaluationRecord(step: progress.step, epoch: epoch, recall: report, training: probe, isBest: isBest)))
            raised = monitor.observe(evaluation: report, training: probe, step: progress.step, final: progress.step == totalSteps)
        }
        if let files {
            if isBest { try ModelFile.write(model, to: files.best); events(.saved(files.best)) }
            try ModelFile.write(model, to: files.last)
            try saveState(events)
        }
        return try respond(to: raised, events)
    }

    /// `size` training pictures drawn once with `seed`, evaluated beside validation; nil without one.
    private static func probe(of train: ImageStore, size: Int, seed: UInt64) -> ImageStore? {
        guard size >= 2 else { return nil }
        var generator = SeededGenerator(seed: seed ^ 0x7072_6F62_6500)
        let picked = Array(generator.permutation(of: train.count).prefix(size)).sorted()
        return train.subset(picked)
    }

    private func saveState(_ events: (TrainingEvent) -> Void) throws {
        guard let files else { return }
        try TrainingState.write(self, to: files.state)
        events(.saved(files.state))
    }

    /// Loads the optimizer's moments of a saved run (`TrainingState.resume`).
    func loadOptimizerState(_ state: [String: Tensor]) throws {
        try optimizer.load(state: state)
    }

    // MARK: Rollback

    private func snapshot() -> TrainingSnapshot {
        TrainingSnapshot(values: (model.parameters + model.buffers).map(\.value), optimizer: optimizer.state(),
                         progress: progress)
    }

    /// Restores `s` with half the learning rate, and reshuffles: the same batches would lead the
    /// same way again.
    private func restore(_ s: TrainingSnapshot) {
        for (p, v) in zip(model.parameters + model.buffers, s.values) { p.value = v }
        try? optimizer.load(state: s.optimizer)
        let now = progress
        progress = s.progress
        progress.rollbacks = now.rollbacks + 1
        progress.learningRateScale = now.learningRateScale * 0.5
        progress.bestRecall = now.bestRecall
        let rollbacks = progress.rollbacks
        progress.rng = SeededGenerator(seed: progress.rng.next() ^ (UInt64(rollbacks) &* 0x9E37_79B9_7F4A_7C15))
        progress.epochOrder = progress.rng.permutation(of: train.count)
    }
}
