import Foundation
import Testing
import Neural
import Text
import Vision
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

private func trainer(_ stores: (train: ImageStore, validation: ImageStore), epochs: Int, seed: UInt64 = 0,
                     files: TrainingFiles? = nil) -> Trainer {
    var options = TrainingOptions()
    options.epochs = epochs
    options.batchSize = 64
    options.seed = seed
    options.logEvery = 1
    let vocabulary = Vocabulary.build(from: stores.train.items.flatMap(\.captions))
    let model = DualEncoder(configuration: SmallShapes.configuration, vocabulary: vocabulary, seed: seed)
    return Trainer(model: model, train: stores.train, validation: stores.validation, options: options, files: files)
}

struct TrainerTests {
    @Test func unusableOptionsAreNamedBeforeTraining() {
        #expect(TrainingOptions().problem() == nil)
        var clip = TrainingOptions(); clip.clipNorm = -1
        var warmup = TrainingOptions(); warmup.warmupSteps = -3
        var final = TrainingOptions(); final.finalLearningRateFraction = 1.5
        var embeddings = TrainingOptions(); embeddings.embeddingLearningRateMultiplier = 0
        #expect(clip.problem()?.contains("clip norm") == true)
        #expect(warmup.problem()?.contains("warm-up steps") == true)
        #expect(final.problem()?.contains("final learning-rate fraction") == true)
        #expect(embeddings.problem()?.contains("embedding learning-rate multiplier") == true)
    }

    @Test func optionsSavedBeforeASettingExistedStillLoad() throws {
        var options = TrainingOptions()
        options.epochs = 7
        options.clipNorm = nil
        options.embeddingLearningRateMultiplier = 4
        let saved = try JSONEncoder().encode(options)
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: saved) == options)

        // An older file: no embedding multiplier, no final fraction; no clip key means no clipping.
        var fields = try #require(try JSONSerialization.jsonObject(with: saved) as? [String: Any])
        fields["embeddingLearningRateMultiplier"] = nil
        fields["finalLearningRateFraction"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: fields))
        #expect(old.epochs == 7 && old.clipNorm == nil)
        #expect(old.embeddingLearningRateMultiplier == TrainingOptions().embeddingLearningRateMultiplier)
        #expect(old.finalLearningRateFraction == TrainingOptions().finalLearningRateFraction)
    }

    @Test func shortTrainingOnShapesBeatsChanceByAWideMargin() throws {
        let stores = SmallShapes.stores(count: 800)
        let run = trainer(stores, epochs: 6)
        var last: RecallReport?
        let outcome = try run.run(events: { if case .evaluated(let e) = $0 { last = e.recall } })
        #expect(outcome == .completed)
        let report = try #require(last)
        // 120 validation pictures with 2 captions each: chance R@10 is 10/120 ≈ 8%.
        #expect(report.textToImage.r10 > 35, "t2i R@10 \(report.textToImage.r10)")
        #expect(report.imageToText.r10 > 35, "i2t R@10 \(report.imageToText.r10)")
        #expect(run.monitor.alarms.isEmpty, "\(run.monitor.alarms.map(\.summary))")
    }

    @Test func resumeContinuesExactlyLikeAnUninterruptedRun() throws {
        let stores = SmallShapes.stores(count: 300)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // Uninterrupted: 6 steps (the epoch ends at step 4, so the resume crosses an epoch boundary).
        let straight = trainer(stores, epochs: 2)
        _ = try straight.run(events: { _ in }, shouldStop: { straight.step >= 6 })

        let files = TrainingFiles(model: folder.appendingPathComponent("m.safetensors"))
        let first = trainer(stores, epochs: 2, files: files)
        let outcome = try first.run(events: { _ in }, shouldStop: { first.step >= 3 })
        #expect(outcome == .interrupted)
        let resumed = try TrainingState.resume(from: files.state, train: stores.train, validation: stores.validation, files: nil)
        #expect(resumed.step == 3)
        _ = try resumed.run(events: { _ in }, shouldStop: { resumed.step >= 6 })

        for (a, b) in zip(straight.model.parameters, resumed.model.parameters) {
            #expect(a.value == b.value, "\(a.name) differs after resuming")
        }
    }

    @Test func modelFileRoundTripsAndRejectsDamage() throws {
        let stores = SmallShapes.stores(count: 40)
        let vocabulary = Vocabulary.build(from: stores.train.items.flatMap(\.captions))
        let model = DualEncoder(configuration: SmallShapes.configuration, vocabulary: vocabulary, seed: 9)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-model-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let fingerprint = try ModelFile.write(model, to: url)
        let (loaded, readFingerprint) = try ModelFile.read(from: url)
        #expect(readFingerprint == fingerprint)
        let captions = ["a small red circle on the left on a plain background"]
        #expect(loaded.embedTexts(captions).embeddings == model.embedTexts(captions).embeddings)
        let batch = model.configuration.preprocessing.batch(Array(stores.train.images.prefix(3)))
        #expect(loaded.embedImages(batch) == model.embedImages(batch))

        // One flipped bit in the weights: refused as damaged, naming the file.
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 100] ^= 0x10
        try bytes.write(to: url)
        #expect {
            _ = try ModelFile.read(from: url)
        } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("damaged")
        }
        // Truncated: refused too.
        try bytes.prefix(bytes.count / 2).write(to: url)
        #expect(throws: ModelFileError.self) { _ = try ModelFile.read(from: url) }
    }

    @Test func thePreprocessingTravelsWithTheModelAndOldFilesReadAsTheyWereTrained() throws {
        var configuration = SmallShapes.configuration
        configuration.resizeFilter = .bicubic
        configuration.pixelNormalization = .imageNet
        let model = DualEncoder(configuration: configuration, vocabulary: try Vocabulary(words: ["a", "red"]), seed: 1)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-pre-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.write(model, to: url)
        let loaded = try ModelFile.read(from: url).model
        #expect(loaded.configuration.preprocessing == Preprocessing(side: 32, filter: .bicubic, normalization: .imageNet))

        // A configuration written before the preprocessing was part of the model.
        var fields = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(SmallShapes.configuration)) as? [String: Any])
        fields["resizeFilter"] = nil
        fields["pixelNormalization"] = nil
        let old = try JSONDecoder().decode(ModelConfiguration.self, from: JSONSerialization.data(withJSONObject: fields))
        #expect(old == SmallShapes.configuration && old.preprocessing == Preprocessing(side: 32, filter: .bilinear, normalization: .symmetric))
    }
}
