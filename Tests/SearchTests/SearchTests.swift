// Indexing a folder and searching it with a tiny random model: incremental runs encode only
// what changed, undecodable files are counted and skipped, a different model is refused, a
// query of unknown words is an error, and results are files of the folder, best first.
import Foundation
import Neural
import Testing
import Text
import Vision
@testable import Search
@testable import VectorIndex
import Retrieval
import Datasets

struct SearchTests {
    /// A tiny random model written to `dir`; returns its URL and fingerprint.
    static func model(in dir: URL, seed: UInt64 = 1) throws -> (URL, String, DualEncoder) {
        var config = ModelConfiguration()
        config.imageSize = 16
        config.channels = [4, 8]
        config.embeddingDimension = 8
        config.tokenDimension = 8
        config.maxTokens = 6
        let vocabulary = try Vocabulary(words: ["red", "blue", "circle", "square", "a"])
        let model = DualEncoder(configuration: config, vocabulary: vocabulary, seed: seed)
        let url = dir.appendingPathComponent("model-\(seed).safetensors")
        let fingerprint = try ModelFile.write(model, to: url)
        return (url, fingerprint, model)
    }

    /// A folder of `count` shape pictures (PNG and JPEG) in two sub-folders.
    static func shapes(_ count: Int) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-search-\(UUID().uuidString)")
        let synth = ShapesSynthesizer(seed: 5, imageSize: 24)
        for i in 0..<count {
            let sub = dir.appendingPathComponent(i % 2 == 0 ? "a" : "b/c")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try synth.image(at: i).image.write(to: sub.appendingPathComponent("p\(i).\(i % 3 == 0 ? "jpg" : "png")"))
        }
        return dir
    }

    static func indexer(_ m: (URL, String, DualEncoder)) -> ImageIndexer {
        var indexer = ImageIndexer(model: m.2, modelPath: m.0.path, fingerprint: m.1)
        indexer.batchSize = 3  // several batches, so the decode/encode pipeline turns over
        return indexer
    }

    @Test func incrementalRunsEncodeOnlyChanges() throws {
        let dir = try Self.shapes(8)
        let m = try Self.model(in: dir.deletingLastPathComponent())
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        let first = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        #expect(first.encodedPaths.count == 8 && first.rows == 8 && first.wroteFile)
        let again = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        #expect(again.encodedPaths.isEmpty && !again.wroteFile && again.unchanged == 8)

        let synth = ShapesSynthesizer(seed: 5, imageSize: 24)
        try synth.image(at: 100).image.write(to: dir.appendingPathComponent("a/new.png"))       // added
        try synth.image(at: 101).image.write(to: dir.appendingPathComponent("b/c/p1.png"))      // changed
        try FileManager.default.removeItem(at: dir.appendingPathComponent("a/p2.png"))          // deleted
        let same = try Data(contentsOf: dir.appendingPathComponent("a/p4.png"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("a/p4.png"))
        try same.write(to: dir.appendingPathComponent("a/p4.png"))                              // touched, same bytes
        let update = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        #expect(update.encodedPaths == ["a/new.png", "b/c/p1.png"])
        #expect(update.added == 1 && update.changed == 1 && update.removed == 1 && update.rows == 8)
        let read = try IndexFile.read(from: indexFile)
        #expect(read.files.map(\.path).sorted() == ["a/new.png", "a/p0.jpg", "a/p4.png", "a/p6.jpg",
                                                     "b/c/p1.png", "b/c/p3.jpg", "b/c/p5.png", "b/c/p7.png"])
        // The kept rows are the rows a fresh index computes.
        let fresh = try Self.indexer(m).update(folder: dir, indexFile: dir.appendingPathComponent("fresh.rtrv"))
        #expect(fresh.encodedPaths.count == 8)
        let freshRows = IndexBuilder.allRows(of: try IndexFile.read(from: dir.appendingPathComponent("fresh.rtrv")).storage)
        let rows = IndexBuilder.allRows(of: read.storage)
        #expect(zip(rows.data, freshRows.data).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func undecodableFilesAreCountedAndSkipped() throws {
        let dir = try Self.shapes(4)
        let png = try Data(contentsOf: dir.appendingPathComponent("a/p2.png"))
        try png.prefix(60).write(to: dir.appendingPathComponent("a/broken.png"))
        try Data("hello".utf8).write(to: dir.appendingPathComponent("a/notes.png"))   // not an image by its bytes
        try png.write(to: dir.appendingPathComponent("b/c/picture.txt"))               // an image by its bytes
        let m = try Self.model(in: dir.deletingLastPathComponent())
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        let report = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        #expect(report.undecodable.map(\.path) == ["a/broken.png"])
        #expect(report.undecodable.first?.reason.contains("truncated") == true)
        #expect(report.rows == 5 && report.nonImages == 1)
        let again = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        #expect(again.undecodable.isEmpty && again.knownUndecodable == 1 && !again.wroteFile)
    }

    @Test func otherModelIsRefusedAndReindexes() throws {
        let dir = try Self.shapes(4)
        let m1 = try Self.model(in: dir.deletingLastPathComponent(), seed: 1)
        let m2 = try Self.model(in: dir.deletingLastPathComponent(), seed: 2)
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        _ = try Self.indexer(m1).update(folder: dir, indexFile: indexFile)
        #expect(throws: SearchError.modelMismatch(index: indexFile.path, model: m2.0.path, expected: m1.1, found: m2.1)) {
            _ = try ImageSearch(indexFile: indexFile, modelFile: m2.0)
        }
        let report = try Self.indexer(m2).update(folder: dir, indexFile: indexFile)
        #expect(report.modelChanged && report.encodedPaths.count == 4)
        #expect(try ImageSearch(indexFile: indexFile).modelFile.path == m2.0.path)
    }

    @Test func searchReturnsFilesOfTheFolderBestFirst() throws {
        let dir = try Self.shapes(10)
        let m = try Self.model(in: dir.deletingLastPathComponent())
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        _ = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        #expect(IndexLocation.find(from: dir.appendingPathComponent("b/c")) == indexFile)
        let search = try ImageSearch(indexFile: indexFile)
        var options = SearchOptions()
        options.k = 4
        let (results, unknown) = try search.search(texts: ["a red circle", "blue zebra square"], options: options)
        #expect(unknown == [[], ["zebra"]])
        for list in results {
            #expect(list.count == 4)
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(list.allSatisfy { FileManager.default.fileExists(atPath: $0.url.path) && $0.url.path.hasPrefix(dir.standardizedFileURL.path) })
        }
        // One query (scan path) agrees with the batch (GEMM path).
        let single = try search.search(texts: ["a red circle"], options: options).results[0]
        #expect(single.map(\.path) == results[0].map(\.path))
        // A picture finds itself first.
        let image = try search.search(imageFiles: [dir.appendingPathComponent("a/p2.png")], options: options)[0]
        #expect(image.first?.path == "a/p2.png")
        #expect(abs((image.first?.score ?? 0) - 1) < 1e-4)
        // --min-score and --dedup: a copy of a picture folds into it.
        try Data(contentsOf: dir.appendingPathComponent("a/p2.png")).write(to: dir.appendingPathComponent("a/copy.png"))
        _ = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        let reopened = try ImageSearch(indexFile: indexFile)
        options.dedup = true
        let folded = try reopened.search(imageFiles: [dir.appendingPathComponent("a/p2.png")], options: options)[0]
        #expect(folded.filter { $0.path == "a/p2.png" || $0.path == "a/copy.png" }.count == 1)
        options.dedup = false
        options.minScore = 0.999
        let close = try reopened.search(imageFiles: [dir.appendingPathComponent("a/p2.png")], options: options)[0]
        #expect(close.allSatisfy { $0.score >= 0.999 } && Set(close.map(\.path)).isSuperset(of: ["a/p2.png", "a/copy.png"]))
    }

    @Test func queryOfUnknownWordsIsAnError() throws {
        let dir = try Self.shapes(3)
        let m = try Self.model(in: dir.deletingLastPathComponent())
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        _ = try Self.indexer(m).update(folder: dir, indexFile: indexFile)
        let search = try ImageSearch(indexFile: indexFile)
        #expect(throws: SearchError.onlyUnknownWords(query: "zebra giraffe", words: ["zebra", "giraffe"])) {
            _ = try search.search(texts: ["zebra giraffe"])
        }
        #expect(throws: SearchError.onlyUnknownWords(query: "  ", words: [])) { _ = try search.search(texts: ["  "]) }
    }

    @Test func contactSheetShowsEveryResult() throws {
        let dir = try Self.shapes(3)
        let results = (0..<3).map { i in
            SearchResult(path: "", url: dir.appendingPathComponent(i == 0 ? "a/p0.jpg" : "missing.png"), score: 0.5, row: i)
        }
        let sheet = ContactSheet.render(results, thumbnail: 32, columns: 2)
        #expect(sheet.width == 2 * 36 + 4 && sheet.height == 2 * (32 + 9 + 4) + 4)
        // The label under the first tile has black pixels (digits drawn).
        let labelRow = (0..<36).map { sheet[4 + $0, 4 + 32 + 3] }
        #expect(labelRow.contains { $0 == (0, 0, 0) })
    }

    @Test func severalQueriesGetOneNumberedSheetEach() throws {
        let dir = try Self.shapes(3)
        let pictures = [dir.appendingPathComponent("a/p0.jpg"), dir.appendingPathComponent("missing.png")]
        // Query 1 found two pictures, query 2 one, query 3 none.
        let results = [2, 1, 0].map { count in
            (0..<count).map { SearchResult(path: "", url: pictures[$0], score: 0.5, row: $0) }
        }
        let base = dir.deletingLastPathComponent().appendingPathComponent("sheet.png")
        let urls = try ContactSheet.writeEach(results, to: base, thumbnail: 32, columns: 5)
        #expect(urls.map(\.lastPathComponent) == ["sheet-1.png", "sheet-2.png", "sheet-3.png"])
        #expect(!FileManager.default.fileExists(atPath: base.path))
        let widths = try urls.map { try RGBImage(contentsOf: $0).width }
        #expect(widths == [2 * 36 + 4, 36 + 4, 36 + 4])
        #expect(ContactSheet.numberedURLs(URL(fileURLWithPath: "/tmp/x/grid.PNG"), count: 2).map(\.path)
                == ["/tmp/x/grid-1.PNG", "/tmp/x/grid-2.PNG"])
    }
}
