// The resumable state of a run, in one safetensors file: weights and buffers ("model/…"),
// AdamW's moments ("optimizer/…"), this epoch's order, and in the metadata the step, the random
// generator, the options, the configuration and the vocabulary. Resuming from it continues
// exactly as if the run had never stopped.
import Cluster
import Foundation
import Neural
import Text
import Datasets

public enum TrainingState {
    static let format = "retrieve-training-state"

    static func write(_ trainer: Trainer, to url: URL) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for p in trainer.model.parameters + trainer.model.buffers { tensors.append(("model/" + p.name, p.value)) }
        for (key, value) in trainer.optimizer.state().sorted(by: { $0.key < $1.key }) {
            tensors.append(("optimizer/" + key, value))
        }
        let progress = trainer.progress
        let order = IntegerTensor(shape: [progress.epochOrder.count], data: progress.epochOrder.map(Int64.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata: [String: String] = [
            "format": format,
            "step": String(progress.step),
            "rng": progress.rng.stateWords.map { String($0) }.joined(separator: ","),
            "learning_rate_scale": String(progress.learningRateScale),
            "rollbacks": String(progress.rollbacks),
            "best_recall": String(progress.bestRecall),
            "options": String(decoding: try encoder.encode(trainer.options), as: UTF8.self),
            "config": try ModelFile.configurationJSON(trainer.model.configuration),
            "vocabulary": String(decoding: trainer.model.vocabulary.jsonData(), as: UTF8.self),
        ]
        try Safetensors.write(tensors, integers: [("epoch_order", order)], metadata: metadata, to: url)
    }

    /// The epochs a saved run was planned for.
    public static func epochs(at url: URL) throws -> Int {
        let file = try read(url)
        guard let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(file.metadata["options"]!.utf8)) else {
            throw ModelFileError(path: url.path, problem: "damaged training state: unreadable options")
        }
        return options.epochs
    }

    /// The model configuration of a saved run (to decode its pictures at the right size).
    public static func configuration(at url: URL) throws -> ModelConfiguration {
        let file = try read(url)
        guard let configuration = try? JSONDecoder().decode(ModelConfiguration.self, from: Data(file.metadata["config"]!.utf8)) else {
            throw ModelFileError(path: url.path, problem: "damaged training state: unreadable configuration")
        }
        return configuration
    }

    /// A trainer that continues the saved run on `train` and `validation`. `epochs`, when it
    /// differs from the saved run's, extends (or shortens) the run: the schedule and the
    /// monitor's thresholds then span the new length, so the rest of the run is not the one
    /// the saved run would have had.
    public static func resume(from url: URL, train: ImageStore, validation: ImageStore?,
                              files: TrainingFiles?, epochs: Int? = nil,
                              communicator: Communicator? = nil) throws -> Trainer {
        let file = try read(url)
        let meta = file.metadata
        func fail(_ problem: String) -> ModelFileError { ModelFileError(path: url.path, problem: problem) }
        guard var options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(meta["options"]!.utf8)),
              let configuration = try? JSONDecoder().decode(ModelConfiguration.self, from: Data(meta["config"]!.utf8)),
              let step = Int(meta["step"] ?? ""),
              let scale = Double(meta["learning_rate_scale"] ?? ""),
              let rollbacks = Int(meta["rollbacks"] ?? ""),
              let best = Double(meta["best_recall"] ?? "") else {
            throw fail("damaged training state: unreadable options, configuration or counters")
        }
        let words = (meta["rng"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard words.count == 4 else { throw fail("damaged training state: bad random-generator state") }
        let vocabulary = try Vocabulary(jsonData: Data(meta["vocabulary"]!.utf8), source: url.path)
        let model = DualEncoder(configuration: configuration, vocabulary: vocabulary, seed: 0)
        for p in model.parameters + model.buffers {
            guard let t = file.tensors["model/" + p.name], t.shape == p.shape else {
                throw fail("damaged training state: tensor 'model/\(p.name)' missing or misshapen")
            }
            p.value = t
        }
        if let epochs { options.epochs = epochs }
        var progress = TrainingProgress(seed: options.seed)
        progress.step = step
        progress.rng = SeededGenerator(state: words)
        progress.learningRateScale = scale
        progress.rollbacks = rollbacks
        progress.bestRecall = best
        progress.epochOrder = (file.integerTensors["epoch_order"]?.data ?? []).map { Int($0) }
        guard progress.epochOrder.allSatisfy({ $0 >= 0 && $0 < train.count }) else {
            throw fail("the saved run used \((progress.epochOrder.max() ?? 0) + 1)+ pictures, the data now has \(train.count): resume on the same data")
        }
        let trainer = Trainer(model: model, train: train, validation: validation, options: options, files: files,
                              thresholds: nil, progress: progress, hooks: nil, communicator: communicator)
        var optimizerState: [String: Tensor] = [:]
        for (name, t) in file.tensors where name.hasPrefix("optimizer/") { optimizerState[String(name.dropFirst(10))] = t }
        do { try trainer.loadOptimizerState(optimizerState) } catch { throw fail("damaged training state: \(error)") }
        return trainer
    }

    private static func read(_ url: URL) throws -> SafetensorsFile {
        let file = try Safetensors.read(contentsOf: url)
        guard file.metadata["format"] == format, file.metadata["options"] != nil,
              file.metadata["config"] != nil, file.metadata["vocabulary"] != nil else {
            throw ModelFileError(path: url.path, problem: "not a retrieve training state")
        }
        return file
    }
}
