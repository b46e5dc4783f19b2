// The two-tower model: an image tower, a text tower, and the learnable log logit scale s
// (logits = exp(s)·cos). Owns its configuration and vocabulary, so a model file alone
// can embed both pictures and words.
import Foundation
import Neural
import Text
import Vision

/// Image tower + text tower + temperature, with the vocabulary they were trained with.
public final class DualEncoder: Module {
    public let configuration: ModelConfiguration
    public let vocabulary: Vocabulary
    public let image: ImageTower
    public let text: TextTower
    /// s, the log of the logit scale (`logit_scale`, shape [1]); clamped to [0, maxLogScale].
    public let logScale: Parameter
    /// b, the sigmoid loss's logit bias (`logit_bias`, shape [1]); nil for the other losses.
    public let logitBias: Parameter?
    /// The scores of true and other pairs on validation, set at the end of each epoch's
    /// evaluation and kept in the model file; nil for models trained without a validation split
    /// or saved before retrieve stored it (their results carry no likelihood).
    public var calibration: ScoreCalibration?
    /// Why a calibration in the model file was set aside (damaged), for a warning; nil otherwise.
    public internal(set) var calibrationWarning: String?

    public init(configuration: ModelConfiguration, vocabulary: Vocabulary, seed: UInt64) {
        precondition(configuration.problem() == nil, configuration.problem() ?? "")
        var rng = SeededGenerator(seed: seed)
        self.configuration = configuration
        self.vocabulary = vocabulary
        image = ImageTower(channels: configuration.channels, embeddingDimension: configuration.embeddingDimension,
                           batchNorm: configuration.normalization == .batch, rng: &rng)
        text = TextTower(vocabularySize: vocabulary.count, tokenDimension: configuration.tokenDimension,
                         embeddingDimension: configuration.embeddingDimension, maxTokens: configuration.maxTokens,
                         positionEmbeddings: configuration.positionEmbeddings,
                         subwordBuckets: configuration.subwordBuckets, rng: &rng)
        logScale = Parameter(name: "logit_scale", value: Tensor(shape: [1], data: [Float(configuration.initialLogScale)]),
                             role: .temperature)
        logitBias = configuration.initialLogitBias.map {
            Parameter(name: "logit_bias", value: Tensor(shape: [1], data: [Float($0)]), role: .temperature)
        }
    }

    /// A new, untrained model with the vocabulary of `captions`: words seen fewer than
    /// `minCount` times, or beyond the `maxVocabulary` most frequent, read as unknown.
    public convenience init(configuration: ModelConfiguration, vocabularyFrom captions: some Sequence<String>, minCount: Int = 1,
                            maxVocabulary: Int = 5000, seed: UInt64) {
        self.init(configuration: configuration,
                  vocabulary: Vocabulary.build(from: captions, minCount: minCount, maxSize: maxVocabulary), seed: seed)
    }

    public var parameters: [Parameter] { image.parameters + text.parameters + [logScale] + (logitBias.map { [$0] } ?? []) }

    /// Non-trained state saved with the weights (batch-norm running statistics).
    public var buffers: [Parameter] { image.buffers }

    public func setTraining(_ training: Bool) { image.setTraining(training) }

    /// exp(s), the factor between cosines and logits.
    public var logitScale: Float { exp(logScale.value[0]) }

    /// Keeps s within [0, maxLogScale] (temperature between 1 and 1/100), as after every step.
    public func clampLogScale() {
        logScale.value[0] = min(max(logScale.value[0], 0), Float(configuration.maxLogScale))
    }

    /// Embeds a batch of preprocessed images (B, S, S, 3) in evaluation mode, `chunk` at a time.
    /// Runs on an evaluation copy of the tower: the model is not written, so several threads
    /// may embed with it at once (while none trains it).
    public func embedImages(_ batch: Tensor, chunk: Int = 256) -> Tensor {
        let tower = image.evaluationCopy()
        return Self.chunked(batch, chunk: chunk) { tower.forward($0) }
    }

    /// Embeds captions; also returns, per caption, the words the vocabulary does not know. Like
    /// `embedImages`, it leaves the model untouched.
    public func embedTexts(_ captions: [String], chunk: Int = 1024) -> (embeddings: Tensor, unknownWords: [[String]]) {
        let d = configuration.embeddingDimension
        var out = [Float]()
        out.reserveCapacity(captions.count * d)
        var unknown: [[String]] = []
        var start = 0
        while start < captions.count {
            let slice = Array(captions[start..<min(captions.count, start + chunk)])
            unknown += slice.map { vocabulary.encode($0, maxLength: configuration.maxTokens).unknownWords }
            out += text.embed(vocabulary.encodeBatch(slice, maxLength: configuration.maxTokens,
                                                     subwords: text.subwordHasher)).data
            start += chunk
        }
        return (Tensor(shape: [captions.count, d], data: out), unknown)
    }

    /// Applies `body` to consecutive slices of the first dimension and stacks the results.
    private static func chunked(_ input: Tensor, chunk: Int, _ body: (Tensor) -> Tensor) -> Tensor {
        let n = input.rows
        if n <= chunk { return body(input) }
        let per = input.columns
        var out = [Float]()
        var width = 0
        var start = 0
        while start < n {
            let count = min(chunk, n - start)
            var shape = input.shape
            shape[0] = count
            let part = body(Tensor(shape: shape, data: Array(input.data[(start * per)..<((start + count) * per)])))
            width = part.columns
            out += part.data
            start += count
        }
        return Tensor(shape: [n, width], data: out)
    }
}
