// How a training run is set up: schedule, optimiser, loss, augmentation and what to do when the
// collapse monitor raises an alarm. Defaults work without tuning on the bundled shapes and on
// real captioned photos.
import Foundation
import Vision

/// What training does when the monitor declares a collapse.
public enum CollapsePolicy: String, Codable, Sendable, CaseIterable {
    /// Report and go on.
    case warn
    /// Save a resumable state and stop.
    case stop
    /// Restore the last healthy state, halve the learning rate, go on (a few times at most).
    case rollback
}

public struct TrainingOptions: Codable, Sendable, Equatable {
    public var epochs = 10
    public var batchSize = 128
    /// Peak learning rate of AdamW, reached after the warm-up.
    public var learningRate = 2e-3
    /// Decoupled weight decay on weights and embeddings (never biases, norms or the temperature).
    public var weightDecay = 0.05
    /// Embedding tables step at this multiple of the learning rate. They start N(0, 1), as in
    /// PyTorch, so at the shared rate a short run barely moves the words' vectors: 10× gave
    /// +8 to +21 R@10 on four icon sets nobody tuned on (README, "Training defaults").
    public var embeddingLearningRateMultiplier = 10.0
    /// Warm-up steps; nil picks 5% of the run, at most 200.
    public var warmupSteps: Int?
    /// The learning rate at the end of the cosine, as a fraction of the peak.
    public var finalLearningRateFraction = 0.02
    /// Global gradient-norm clip; nil turns clipping off.
    public var clipNorm: Double? = 5
    public var loss: TrainingLoss = .nPair
    /// Off by default: on every real set measured (README, "Training defaults") a run of
    /// 20 epochs did as well or better on the pictures themselves as on random crops of them.
    public var augmentation = Augmentation.none
    public var seed: UInt64 = 0
    /// A step record (and a metrics line) every this many steps.
    public var logEvery = 10
    public var onCollapse: CollapsePolicy = .warn
    /// The most rollbacks before a rollback policy gives up and stops.
    public var maxRollbacks = 3

    public init() {}

    /// The number of optimiser steps in `epochs` over `images` pictures (the last partial batch
    /// is kept when it has at least two pairs).
    public func stepsPerEpoch(images: Int) -> Int {
        let full = images / batchSize
        return full + (images % batchSize >= 2 ? 1 : 0)
    }

    public func resolvedWarmup(totalSteps: Int) -> Int {
        min(totalSteps, warmupSteps ?? min(200, max(1, totalSteps / 20)))
    }

    /// A sentence naming the first unusable setting, or nil.
    public func problem() -> String? {
        if epochs < 1 { return "epochs must be at least 1, got \(epochs)" }
        if batchSize < 2 { return "batch size must be at least 2 (a pair needs a negative), got \(batchSize)" }
        if !(learningRate > 0 && learningRate < 1) { return "learning rate must be in (0, 1), got \(learningRate)" }
        if !(embeddingLearningRateMultiplier > 0) { return "embedding learning-rate multiplier must be positive, got \(embeddingLearningRateMultiplier)" }
        if weightDecay < 0 { return "weight decay must not be negative, got \(weightDecay)" }
        if let c = clipNorm, !(c > 0) { return "clip norm must be positive, got \(c)" }
        if let w = warmupSteps, w < 0 { return "warm-up steps must not be negative, got \(w)" }
        if !(finalLearningRateFraction >= 0 && finalLearningRateFraction <= 1) {
            return "the final learning-rate fraction must be in [0, 1], got \(finalLearningRateFraction)"
        }
        if case .hinge(let m) = loss, !(m > 0) { return "hinge margin must be positive, got \(m)" }
        return nil
    }
}

extension TrainingOptions {
    /// Reads options saved by any earlier version: a setting the file does not name keeps its
    /// default, so a run saved before a setting existed still resumes. Optional settings are
    /// the exception, since an absent key is how nil (no clipping, automatic warm-up) is saved.
    /// A new setting needs its line here too, or a resumed run falls back to its default.
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.epochs, &epochs)
        try read(.batchSize, &batchSize)
        try read(.learningRate, &learningRate)
        try read(.weightDecay, &weightDecay)
        try read(.embeddingLearningRateMultiplier, &embeddingLearningRateMultiplier)
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
        try read(.finalLearningRateFraction, &finalLearningRateFraction)
        clipNorm = try c.decodeIfPresent(Double.self, forKey: .clipNorm)
        try read(.loss, &loss)
        try read(.augmentation, &augmentation)
        try read(.seed, &seed)
        try read(.logEvery, &logEvery)
        try read(.onCollapse, &onCollapse)
        try read(.maxRollbacks, &maxRollbacks)
    }
}
