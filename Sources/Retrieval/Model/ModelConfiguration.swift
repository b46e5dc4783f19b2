// The shape of a two-tower model: everything needed to rebuild it before loading weights, and
// how its pictures are prepared. Stored as JSON inside the model file, and part of the model's
// fingerprint.
import Foundation
import Vision

/// Architecture and preprocessing of a retrieve model. Defaults suit a 2-core CPU.
public struct ModelConfiguration: Codable, Sendable, Equatable {
    /// Square input side of the image tower, in pixels.
    public var imageSize = 64
    /// Output channels of each conv–(norm)–ReLU–pool block.
    public var channels = [32, 64, 128, 256]
    /// Normalisation in the CNN blocks.
    public var normalization: Normalization = .batch
    /// Dimension of the shared embedding space.
    public var embeddingDimension = 128
    /// Width of token embeddings.
    public var tokenDimension = 128
    /// Tokens kept per caption.
    public var maxTokens = 16
    /// Learned position embeddings added to token embeddings, so word order can matter.
    public var positionEmbeddings = true
    /// Initial log of the logit scale (log 1/0.07, as CLIP) and its clamp.
    public var initialLogScale = Foundation.log(1 / 0.07)
    public var maxLogScale = Foundation.log(100.0)
    /// Initial value of the learned logit bias b of the sigmoid loss (logits exp(s)·cos + b);
    /// nil: the model has no bias (the N-pair and hinge losses need none). Retrieval ranks by
    /// cosine alone, so the bias only matters in training.
    public var initialLogitBias: Double?
    /// Rows of the hashed character n-gram table beside the word table (0: none). Each word
    /// adds the mean of its 3- to 5-character n-grams' rows, so a word never seen in training
    /// ("cats", "adress") still reads like the words it shares n-grams with ("cat", "address").
    public var subwordBuckets = 16_384
    /// How pictures are resampled to `imageSize` and mapped to floats: part of the model, so
    /// training, evaluation, indexing and queries prepare pictures alike.
    public var resizeFilter: ResizeFilter = .bilinear
    public var pixelNormalization: PixelNormalization = .symmetric

    /// The one preprocessing path for this model's pictures.
    public var preprocessing: Preprocessing {
        Preprocessing(side: imageSize, filter: resizeFilter, normalization: pixelNormalization)
    }

    public enum Normalization: String, Codable, Sendable, CaseIterable {
        case none, batch
    }

    public init() {}

    /// The architecture of the PyTorch reference (`../shared/bench/torch_ref.py` defaults):
    /// no normalisation layer, no position embeddings.
    public static var reference: ModelConfiguration {
        var c = ModelConfiguration()
        c.normalization = .none
        c.positionEmbeddings = false
        c.subwordBuckets = 0
        return c
    }

    /// The configuration with what `loss` needs: the sigmoid loss gets a logit bias starting at
    /// −10 and a logit scale starting at 10 (SigLIP's start: every pair begins as a confident
    /// negative, which is what nearly all of them are); the other losses get no bias.
    public func prepared(for loss: TrainingLoss) -> ModelConfiguration {
        var c = self
        if case .sigmoid = loss {
            if c.initialLogitBias == nil {
                c.initialLogitBias = -10
                c.initialLogScale = Foundation.log(10)
            }
        } else {
            c.initialLogitBias = nil
        }
        return c
    }

    /// Checks the numbers make a buildable model; returns a sentence naming the first problem.
    public func problem() -> String? {
        if imageSize < 8 { return "image size must be at least 8 pixels, got \(imageSize)" }
        if channels.isEmpty || channels.contains(where: { $0 <= 0 }) { return "channels must be positive, got \(channels)" }
        if imageSize >> max(0, channels.count - 1) < 1 {
            return "\(channels.count) pooling blocks shrink a \(imageSize)-pixel image to nothing"
        }
        if embeddingDimension <= 0 || tokenDimension <= 0 { return "dimensions must be positive" }
        if maxTokens <= 0 { return "max tokens must be positive, got \(maxTokens)" }
        if subwordBuckets < 0 { return "subword buckets must not be negative, got \(subwordBuckets)" }
        // Bounds far above any model this tool trains, so that a model file's configuration
        // can never ask for an allocation the machine cannot make.
        if imageSize > 2048 || channels.count > 12 || channels.contains(where: { $0 > 4096 }) {
            return "image size \(imageSize) or channels \(channels) beyond what retrieve builds (2048 pixels, 12 blocks of at most 4096)"
        }
        if embeddingDimension > 16_384 || tokenDimension > 16_384 || maxTokens > 4096 || subwordBuckets > 1 << 24 {
            return "dimensions \(embeddingDimension)/\(tokenDimension), \(maxTokens) tokens or \(subwordBuckets) n-gram buckets beyond what retrieve builds (16384, 4096 tokens, 2^24 buckets)"
        }
        return nil
    }
}

extension ModelConfiguration {
    /// Reads configurations of every version: files written before the preprocessing was part of
    /// the model read as what they were trained with (bilinear, pixels to [−1, 1]).
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decode(Int.self, forKey: .imageSize)
        channels = try c.decode([Int].self, forKey: .channels)
        normalization = try c.decode(Normalization.self, forKey: .normalization)
        embeddingDimension = try c.decode(Int.self, forKey: .embeddingDimension)
        tokenDimension = try c.decode(Int.self, forKey: .tokenDimension)
        maxTokens = try c.decode(Int.self, forKey: .maxTokens)
        positionEmbeddings = try c.decode(Bool.self, forKey: .positionEmbeddings)
        initialLogScale = try c.decode(Double.self, forKey: .initialLogScale)
        maxLogScale = try c.decode(Double.self, forKey: .maxLogScale)
        resizeFilter = try c.decodeIfPresent(ResizeFilter.self, forKey: .resizeFilter) ?? .bilinear
        pixelNormalization = try c.decodeIfPresent(PixelNormalization.self, forKey: .pixelNormalization) ?? .symmetric
        initialLogitBias = try c.decodeIfPresent(Double.self, forKey: .initialLogitBias)
        subwordBuckets = try c.decodeIfPresent(Int.self, forKey: .subwordBuckets) ?? 0
    }
}
