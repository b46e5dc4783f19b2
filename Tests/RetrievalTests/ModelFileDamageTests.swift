// A model file with one flipped bit anywhere — the length prefix, the JSON header (names,
// shapes, offsets, the configuration, vocabulary and fingerprint in the metadata), the padding,
// the weights — is refused with a ModelFileError naming the file, never loaded: a sampled sweep
// over every byte class of a small model. A damaged configuration is refused before the model
// it describes is built.
import Foundation
import Neural
import Testing
import Text
import Datasets
@testable import Retrieval

struct ModelFileDamageTests {
    @Test func aFlippedBitAnywhereIsRefused() throws {
        let stores = SmallShapes.stores(count: 20)
        let vocabulary = Vocabulary.build(from: stores.train.items.flatMap(\.captions))
        let model = DualEncoder(configuration: SmallShapes.configuration, vocabulary: vocabulary, seed: 4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-flip-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.write(model, to: url)
        let clean = [UInt8](try Data(contentsOf: url))
        let headerEnd = 8 + Int(clean[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        // Every byte of the length prefix, every 3rd of the header (JSON text, metadata, padding),
        // 400 spread over the weights; the bit changes with the position.
        let positions = Array(0..<8) + Array(stride(from: 8, to: headerEnd, by: 3))
            + (0..<400).map { headerEnd + (clean.count - headerEnd) * $0 / 400 } + [clean.count - 1]
        var refused = 0
        for position in positions {
            var bytes = clean
            bytes[position] ^= UInt8(1) << UInt8(position % 8)
            try Data(bytes).write(to: url)
            do {
                _ = try ModelFile.read(from: url)
                Issue.record("a flipped bit at byte \(position) of \(clean.count) (header ends at \(headerEnd)) was loaded")
            } catch let e as ModelFileError {
                #expect(e.path == url.path && !e.description.contains("\n"))
                refused += 1
            }
        }
        #expect(refused == positions.count && positions.count > 1000, "\(refused) of \(positions.count) refused")
    }

    @Test func aConfigurationAskingForBillionsOfWeightsIsRefusedBeforeTheyAreAllocated() throws {
        // Found writing fuzz/'s model target: a damaged digit in the stored configuration made
        // the reader build a model with a billion-wide embedding, and the allocation aborted.
        let stores = SmallShapes.stores(count: 20)
        let model = DualEncoder(configuration: SmallShapes.configuration,
                                vocabulary: Vocabulary.build(from: stores.train.items.flatMap(\.captions)), seed: 4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-huge-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.write(model, to: url)
        let file = try Safetensors.read(contentsOf: url)
        for (key, huge) in [("embeddingDimension", 1_000_000_000), ("maxTokens", 2_000_000_000), ("tokenDimension", 1_500_000_000)] {
            var metadata = file.metadata
            metadata["config"] = metadata["config"]!.replacingOccurrences(of: #""\#(key)":64"#, with: #""\#(key)":\#(huge)"#)
                .replacingOccurrences(of: #""\#(key)":16"#, with: #""\#(key)":\#(huge)"#)
            #expect(metadata["config"]!.contains("\(huge)"), "\(key) not found in \(file.metadata["config"]!)")
            try Safetensors.write(file.tensors, metadata: metadata, to: url)
            #expect(throws: ModelFileError.self, "\(key): \(huge)") { _ = try ModelFile.read(from: url) }
            do { _ = try ModelFile.read(from: url) } catch let e as ModelFileError {
                #expect(e.description.contains("damaged: its configuration, vocabulary or weights do not match")
                        || e.description.contains("beyond what retrieve builds"), "\(e)")
            }
        }
    }

    @Test func aForgedFingerprintStillCannotAskForBillionsOfWeights() {
        // A crafted file can carry a fingerprint that matches: the configuration's own bounds
        // refuse it before a single tensor is allocated.
        for change in [{ (c: inout ModelConfiguration) in c.embeddingDimension = 1_000_000_000 },
                       { $0.maxTokens = 2_000_000_000 }, { $0.channels = [16, 1 << 20] },
                       { $0.imageSize = 1 << 20 }, { $0.subwordBuckets = 1 << 40 }] {
            var configuration = SmallShapes.configuration
            change(&configuration)
            #expect(configuration.problem()?.contains("beyond what retrieve builds") == true, "\(configuration)")
        }
        #expect(SmallShapes.configuration.problem() == nil && ModelConfiguration().problem() == nil)
    }
}
