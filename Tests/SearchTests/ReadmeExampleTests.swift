// The README's "From Swift" example, compiled and run exactly as printed there: open a model,
// index a folder, search it by text, embed pictures and captions. A second test holds the README
// to these lines, so the two cannot drift apart.
import Foundation
import Testing
import Retrieval
import Search

struct ReadmeExampleTests {
    /// The example, between the markers, verbatim; "model.safetensors" and "photos" are the
    /// names it uses, made real here in a temporary folder.
    static func example() throws -> (results: [SearchResult], embeddings: Int) {
        // README example begins
        let (model, fingerprint) = try ModelFile.read(from: URL(fileURLWithPath: "model.safetensors"))
        let photos = URL(fileURLWithPath: "photos")
        let indexFile = IndexLocation.defaultFile(forFolder: photos)     // photos/.retrieve/index.rtrv
        _ = try ImageIndexer(model: model, modelPath: "model.safetensors", fingerprint: fingerprint)
            .update(folder: photos, indexFile: indexFile)
        let search = try ImageSearch(indexFile: indexFile)
        let results = try search.search(texts: ["a red circle"]).results[0]   // best first: path, score
        let preprocessing = model.configuration.preprocessing                // how this model sees pictures
        let picture = try preprocessing.square(contentsOf: photos.appendingPathComponent("a/p0.jpg"))
        let vectors = model.embedImages(preprocessing.batch([picture]))       // (1, D), unit length
        let captions = model.embedTexts(["a red circle"]).embeddings          // (1, D), the same space
        // README example ends
        return (results, vectors.shape[0] + captions.shape[0])
    }

    @Test func theReadmeExampleRuns() throws {
        let dir = try SearchTests.shapes(6)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, _, _) = try SearchTests.model(in: dir, seed: 3)
        try FileManager.default.moveItem(at: url, to: dir.appendingPathComponent("model.safetensors"))
        let photos = dir.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        for sub in ["a", "b"] { try FileManager.default.moveItem(at: dir.appendingPathComponent(sub), to: photos.appendingPathComponent(sub)) }
        let previous = FileManager.default.currentDirectoryPath
        #expect(FileManager.default.changeCurrentDirectoryPath(dir.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        let (results, embeddings) = try Self.example()
        #expect(results.count == 6 && results.map(\.score) == results.map(\.score).sorted(by: >))
        #expect(embeddings == 2)
    }

    @Test func theReadmeShowsExactlyThisExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        func lines(_ text: String, from start: String, to end: String) -> [String] {
            let all = text.components(separatedBy: "\n")
            guard let a = all.firstIndex(where: { $0.contains(start) }),
                  let b = all[(a + 1)...].firstIndex(where: { $0.contains(end) }) else { return [] }
            return all[(a + 1)..<b].map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let example = lines(source, from: "// README example begins", to: "// README example ends")
        let shown = lines(readme, from: "```swift", to: "```").filter { !$0.hasPrefix("import ") && !$0.isEmpty }
        #expect(!example.isEmpty && shown == example, "README's Swift example differs from the tested one")
    }
}
