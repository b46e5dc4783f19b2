// Measures training throughput the way the PyTorch reference's --bench does: synthetic
// pictures and token ids (random lengths 4…16 padded to 16), a full optimisation step (forward,
// loss, backward, clip, AdamW) timed after warm-up, median of the timed steps; plus a per-layer
// profile of the image tower, which is where the time goes; and inference (embedding without
// gradients, as indexing and queries run) in pictures and captions per second.
import Foundation
import Neural
import Text
import Retrieval

public enum TrainingBenchmark {
    public struct Row: Codable, Sendable {
        public let batch: Int
        public let pairsPerSecond: Double
        public let stepSeconds: Double

        enum CodingKeys: String, CodingKey {
            case batch, pairsPerSecond = "pairs_per_s", stepSeconds = "step_s"
        }
    }

    /// Embeddings per second in evaluation mode, the median of timed batches after one warm-up.
    public struct InferenceRow: Codable, Sendable {
        public let batch: Int
        public let imagesPerSecond: Double
        public let textsPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case batch, imagesPerSecond = "images_per_s", textsPerSecond = "texts_per_s"
        }
    }

    /// Forward and backward milliseconds of one layer (or phase) within a step.
    public struct ProfileEntry: Codable, Sendable {
        public let name: String
        public let forwardMilliseconds: Double
        public let backwardMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case name, forwardMilliseconds = "forward_ms", backwardMilliseconds = "backward_ms"
        }
    }

    /// A model of `configuration` with a 5000-word vocabulary, as the reference benchmarks.
    static func model(_ configuration: ModelConfiguration) -> DualEncoder {
        let words = (0..<4998).map { "w\($0)" }
        return DualEncoder(configuration: configuration, vocabulary: try! Vocabulary(words: words), seed: 1)
    }

    static func inputs(batch: Int, configuration: ModelConfiguration,
                       using rng: inout SeededGenerator) -> (Tensor, EncodedBatch) {
        let side = configuration.imageSize, length = 16
        let images = Tensor(randomUniform: [batch, side, side, 3], in: -1...1, using: &rng)
        var ids = [Int32](repeating: 0, count: batch * length), lengths = [Int](repeating: 0, count: batch)
        for b in 0..<batch {
            lengths[b] = 4 + rng.nextIndex(below: 13)
            for t in 0..<lengths[b] { ids[b * length + t] = Int32(2 + rng.nextIndex(below: 4996)) }
        }
        guard configuration.subwordBuckets > 0 else {
            return (images, EncodedBatch(ids: ids, lengths: lengths, batchSize: batch, maxLength: length))
        }
        // The same words as captions, so their character n-grams are hashed as in training.
        let captions = (0..<batch).map { b in
            (0..<lengths[b]).map { "w\(ids[b * length + $0] - 2)" }.joined(separator: " ")
        }
        let vocabulary = try! Vocabulary(words: (0..<4998).map { "w\($0)" })
        return (images, vocabulary.encodeBatch(captions, maxLength: length,
                                               subwords: Subwords(buckets: configuration.subwordBuckets)))
    }

    /// Pairs per second of whole training steps at `batch`: `warmup` steps, then the median of `steps`.
    public static func throughput(batch: Int, configuration: ModelConfiguration = .reference,
                                  warmup: Int = 2, steps: Int = 5) -> Row {
        var rng = SeededGenerator(seed: 2)
        let model = model(configuration)
        let (images, text) = inputs(batch: batch, configuration: configuration, using: &rng)
        let optimizer = AdamW(groups: ParameterGroup.byRole(model.parameters, weightDecay: 0.01))
        let step = OptimizationStep(model: model, optimizer: optimizer, loss: .nPair, clipNorm: nil)
        var times: [Double] = []
        for i in 0..<(warmup + steps) {
            let seconds = GEMMBenchmark.seconds { _ = step.run(images: images, text: text, mask: nil, learningRate: 1e-3) }
            if i >= warmup { times.append(seconds) }
        }
        let median = times.sorted()[times.count / 2]
        return Row(batch: batch, pairsPerSecond: Double(batch) / median, stepSeconds: median)
    }

    /// Pictures and captions embedded per second at `batch`, as `DualEncoder.embedImages` and
    /// the text tower run for indexing and queries (the reference's inference benchmark).
    public static func inference(batch: Int, configuration: ModelConfiguration = .reference, steps: Int = 5) -> InferenceRow {
        var rng = SeededGenerator(seed: 4)
        let model = model(configuration)
        let (images, text) = inputs(batch: batch, configuration: configuration, using: &rng)
        func median(_ body: () -> Void) -> Double {
            body()
            let times = (0..<steps).map { _ in GEMMBenchmark.seconds(body) }.sorted()
            return times[times.count / 2]
        }
        let imageSeconds = median { _ = model.embedImages(images, chunk: batch) }
        let textSeconds = median { _ = model.text.embed(text) }
        return InferenceRow(batch: batch, imagesPerSecond: Double(batch) / imageSeconds, textsPerSecond: Double(batch) / textSeconds)
    }

    /// Milliseconds per image-tower layer (forward, backward) and per other phase of a step,
    /// averaged over `steps` after one warm-up.
    public static func profile(batch: Int, configuration: ModelConfiguration = .reference, steps: Int = 3) -> [ProfileEntry] {
        var rng = SeededGenerator(seed: 3)
        let model = model(configuration)
        let (images, text) = inputs(batch: batch, configuration: configuration, using: &rng)
        let optimizer = AdamW(groups: ParameterGroup.byRole(model.parameters, weightDecay: 0.01))
        let layers = model.image.network.layers
        var forward = [Double](repeating: 0, count: layers.count), backward = forward
        var other: [String: (Double, Double)] = [:]
        model.setTraining(true)
        for i in 0...steps {
            let weight = i == 0 ? 0.0 : 1000 / Double(steps)
            var x = images
            for (k, layer) in layers.enumerated() { forward[k] += weight * GEMMBenchmark.seconds { x = layer.forward(x) } }
            var textEmbeddings = Tensor(zeros: [0])
            let textForward = GEMMBenchmark.seconds {
                textEmbeddings = model.text.forward(text)
            }
            var result: LossResult?
            let lossTime = GEMMBenchmark.seconds {
                result = ContrastiveLoss.nPair(image: x, text: textEmbeddings, logScale: model.logScale.value[0])
            }
            model.zeroGradients()
            var g = result!.gradImage
            for (k, layer) in layers.enumerated().reversed() { backward[k] += weight * GEMMBenchmark.seconds { g = layer.backward(g) } }
            let textBackward = GEMMBenchmark.seconds { model.text.backward(result!.gradText) }
            let optimizerTime = GEMMBenchmark.seconds { optimizer.step(learningRate: 1e-3) }
            for (name, f, b) in [("text tower", textForward, textBackward), ("loss", lossTime, 0.0), ("AdamW", optimizerTime, 0.0)] {
                let old = other[name] ?? (0, 0)
                other[name] = (old.0 + weight * f, old.1 + weight * b)
            }
        }
        var entries: [ProfileEntry] = []
        var counts: [String: Int] = [:]
        for (k, layer) in layers.enumerated() {
            let kind = String(describing: type(of: layer))
            counts[kind, default: 0] += 1
            entries.append(ProfileEntry(name: "image \(kind) \(counts[kind]!)", forwardMilliseconds: forward[k],
                                        backwardMilliseconds: backward[k]))
        }
        for name in ["text tower", "loss", "AdamW"] {
            entries.append(ProfileEntry(name: name, forwardMilliseconds: other[name]!.0, backwardMilliseconds: other[name]!.1))
        }
        return entries
    }
}
