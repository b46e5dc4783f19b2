// The calibration in the model file: written with the model and read back equal, outside the
// fingerprint (an index built before keeps matching), absent in older files (no likelihood, no
// warning), and set aside with a one-line warning when damaged or hostile, the weights still
// loading. Training stores, in the best and the last model alike, the calibration of the very
// weights written.
import Foundation
import Neural
import Testing
import Text
import Datasets
@testable import Retrieval

struct CalibrationFileTests {
    private func model() -> DualEncoder {
        let stores = SmallShapes.stores(count: 20)
        return DualEncoder(configuration: SmallShapes.configuration,
                           vocabulary: Vocabulary.build(from: stores.train.items.flatMap(\.captions)), seed: 4)
    }

    private static let calibration = ScoreCalibration(matchScores: (0..<50).map { Float($0) / 60 },
                                                      otherScores: (0..<500).map { Float($0) / 600 - 0.5 },
                                                      pictures: 50, captions: 60)!

    private func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-\(name)-\(UUID().uuidString).safetensors")
    }

    @Test func theCalibrationComesBackAndLeavesTheFingerprintAlone() throws {
        let m = model()
        let plain = temporary("plain"), calibrated = temporary("calibrated")
        defer { try? FileManager.default.removeItem(at: plain); try? FileManager.default.removeItem(at: calibrated) }
        let before = try ModelFile.write(m, to: plain)
        m.calibration = Self.calibration
        let after = try ModelFile.write(m, to: calibrated)
        #expect(before == after)
        let (read, fingerprint) = try ModelFile.read(from: calibrated)
        #expect(fingerprint == after && read.calibration == Self.calibration && read.calibrationWarning == nil)
        #expect(read.calibration?.likelihood(of: 0.7) == Self.calibration.likelihood(of: 0.7))
        // A file without one, as every model written before: no likelihood and nothing to warn about.
        let (old, _) = try ModelFile.read(from: plain)
        #expect(old.calibration == nil && old.calibrationWarning == nil)
    }

    @Test func aDamagedOrHostileCalibrationIsSetAsideWithAWarning() throws {
        let m = model()
        m.calibration = Self.calibration
        let url = temporary("hostile")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.write(m, to: url)
        let file = try Safetensors.read(contentsOf: url)
        let text = file.metadata["calibration"]!
        let bins = ScoreCalibration.binCount
        func zeros(_ n: Int) -> String { "[" + Array(repeating: "0", count: n).joined(separator: ",") + "]" }
        func ones(_ n: Int) -> String { "[" + Array(repeating: "1", count: n).joined(separator: ",") + "]" }
        let cases: [(String, String?, String)] = [
            // (calibration text, checksum: nil recomputes it, what the warning says)
            (text.replacingOccurrences(of: "\"pictures\":50", with: "\"pictures\":51"), text, "damaged (checksum)"),
            ("{\"captions\":1,\"matches\":\(ones(bins)),\"others\":\(zeros(bins)),\"pictures\":1}", nil, "at least one true pair and one other"),
            ("{\"captions\":1,\"matches\":\(ones(3)),\"others\":\(ones(bins)),\"pictures\":1}", nil, "same number of bins"),
            ("{\"captions\":1,\"matches\":\(ones(20_000)),\"others\":\(ones(20_000)),\"pictures\":1}", nil, "same number of bins"),
            ("{\"captions\":1,\"matches\":[-5\(String(repeating: ",1", count: bins - 1))],\"others\":\(ones(bins)),\"pictures\":1}", nil, "whole numbers"),
            ("{\"captions\":1,\"matches\":\(ones(bins)),\"others\":\(ones(bins)),\"pictures\":-3}", nil, "must be positive"),
            // Counts whose sum would overflow: refused by their bound before they are added.
            ("{\"captions\":1,\"matches\":[\(Array(repeating: "\(Int.max / 4)", count: 9_000).joined(separator: ","))],\"others\":\(ones(9_000)),\"pictures\":1}", nil, "whole numbers"),
            ("{\"matches\": \"many\"}", nil, "unreadable"),
            ("not json", nil, "unreadable"),
        ]
        for (hostile, checksumOf, says) in cases {
            var metadata = file.metadata
            metadata["calibration"] = hostile
            metadata["calibration_checksum"] = ModelFile.checksum(checksumOf ?? hostile)
            try Safetensors.write(file.tensors, metadata: metadata, to: url)
            let (read, _) = try ModelFile.read(from: url)
            #expect(read.calibration == nil, "\(says)")
            let warning = read.calibrationWarning ?? ""
            #expect(warning.hasPrefix(url.path + ": ") && warning.contains(says) && !warning.contains("\n"), "\(warning)")
        }
        // Without its checksum a calibration is not trusted either.
        var metadata = file.metadata
        metadata["calibration_checksum"] = nil
        try Safetensors.write(file.tensors, metadata: metadata, to: url)
        #expect(try ModelFile.read(from: url).model.calibration == nil)
    }

    @Test func trainingStoresTheCalibrationOfTheWeightsItWrites() throws {
        let stores = SmallShapes.stores(count: 160)
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 32
        options.logEvery = 100
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-calibrated-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = TrainingFiles(model: folder.appendingPathComponent("m.safetensors"))
        let untrained = DualEncoder(configuration: SmallShapes.configuration,
                                    vocabulary: Vocabulary.build(from: stores.train.items.flatMap(\.captions)), seed: 0)
        let run = Trainer(model: untrained, train: stores.train, validation: stores.validation, options: options, files: files)
        _ = try run.run(events: { _ in })
        for url in [files.best, files.last] {
            let (model, _) = try ModelFile.read(from: url)
            let stored = try #require(model.calibration, "\(url.lastPathComponent)")
            #expect(stored.pictures == stores.validation.count)
            #expect(stored.captions == stores.validation.items.reduce(0) { $0 + $1.captions.count })
            // Measured again from the weights in the file: the same counts.
            #expect(RetrievalEvaluation.embed(model: model, store: stores.validation).calibration() == stored, "\(url.lastPathComponent)")
        }
        // Without validation pictures there is nothing to calibrate on.
        let blind = Trainer(model: DualEncoder(configuration: SmallShapes.configuration,
                                               vocabulary: untrained.vocabulary, seed: 1),
                            train: stores.train, validation: nil, options: options)
        _ = try blind.run(events: { _ in })
        #expect(blind.model.calibration == nil)
    }
}
