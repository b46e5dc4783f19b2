// One opened index and its model answer several threads at once: inference runs on copies that
// share the weights, so queries neither corrupt each other nor the model, and every thread gets
// exactly what one thread alone gets. A training step still works on the same model afterwards.
import Foundation
import Neural
import Testing
import Retrieval
@testable import Search

struct ConcurrentSearchTests {
    @Test func twoThreadsQueryingOneSearchGetWhatOneThreadGets() throws {
        let dir = try SearchTests.shapes(12)
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try SearchTests.model(in: dir.deletingLastPathComponent(), seed: 7)
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        _ = try SearchTests.indexer(m).update(folder: dir, indexFile: indexFile)
        let search = try ImageSearch(indexFile: indexFile)
        let texts = ["a red circle", "a blue square", "red", "a square", "blue circle", "a circle"]
        let pictures = try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".png") }
            .sorted().prefix(4).map { dir.appendingPathComponent($0) }
        var options = SearchOptions()
        options.k = 5

        let alone = try search.search(texts: texts, options: options).results
        let aloneByPicture = try search.search(imageFiles: pictures, options: options)
        let rounds = 8
        var together = [[[SearchResult]]](repeating: [], count: 2 * rounds)
        var byPicture = [[[SearchResult]]](repeating: [], count: 2 * rounds)
        together.withUnsafeMutableBufferPointer { text in
            byPicture.withUnsafeMutableBufferPointer { picture in
                let (t, p) = (text.baseAddress!, picture.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: 2 * rounds) { i in
                    t[i] = (try? search.search(texts: texts, options: options).results) ?? []
                    p[i] = (try? search.search(imageFiles: pictures, options: options)) ?? []
                }
            }
        }
        for i in 0..<(2 * rounds) {
            #expect(together[i] == alone, "round \(i): text results differ from one thread's")
            #expect(byPicture[i] == aloneByPicture, "round \(i): picture results differ from one thread's")
        }
        #expect(alone.allSatisfy { $0.count == 5 } && aloneByPicture.allSatisfy { $0.count == 5 })
    }

    @Test func embeddingLeavesTheModelAsItWas() throws {
        let (_, _, model) = try SearchTests.model(in: FileManager.default.temporaryDirectory, seed: 8)
        model.setTraining(true)
        let before = (model.parameters + model.buffers).map(\.value)
        var rng = SeededGenerator(seed: 3)
        let images = Tensor(randomUniform: [3, 16, 16, 3], in: -1...1, using: &rng)
        let first = model.embedImages(images)
        _ = model.embedTexts(["a red circle", "blue"])
        #expect(model.embedImages(images) == first)
        #expect((model.parameters + model.buffers).map(\.value) == before, "inference wrote to the model")
        // Still in training mode: a batch-norm forward uses the batch's statistics, not the running ones.
        let (trainingOutput, evaluationOutput) = (model.image.forward(images), model.image.infer(images))
        #expect(trainingOutput != evaluationOutput)
    }
}
