// The graph in an index file: links whose checksums pass but which point outside the graph are
// refused before any search follows them; a folder indexed as a graph grows by adding pictures
// to the stored graph (its old links kept) and searches like a graph built at once; a removed
// picture rebuilds it.
import Foundation
import Neural
import Testing
import Datasets
@testable import Search
@testable import VectorIndex

struct GraphIndexFileTests {
    /// Writes `contents`, lets `edit` change bytes of the layer-0 section (its offset given),
    /// seals the file again with a correct trailer, and returns the reading error.
    static func sealedError(_ contents: IndexContents, edit: (inout [UInt8], Int) -> Void) throws -> IndexFileError? {
        let url = try IndexFileTests.folder().appendingPathComponent("index.rtrv")
        try IndexFile.write(contents, to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        func u64(_ at: Int) -> Int { Int(bytes[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        let rows = (u64(48), u64(56)), layer0 = u64(48 + 16 * 2)
        edit(&bytes, layer0)
        // A forger's trailer: the checksum of everything but the rows, as the writer computes it.
        var sum = Checksum64()
        bytes.withUnsafeBytes { b in
            sum.update(UnsafeRawBufferPointer(rebasing: b[0..<rows.0]))
            sum.update(UnsafeRawBufferPointer(rebasing: b[(rows.0 + rows.1)..<(b.count - 8)]))
        }
        let trailer = sum.finalize().littleEndian
        withUnsafeBytes(of: trailer) { for i in 0..<8 { bytes[bytes.count - 8 + i] = $0[i] } }
        try Data(bytes).write(to: url)
        do {
            _ = try IndexFile.read(from: url)
            return nil
        } catch let e as IndexFileError {
            return e
        }
    }

    @Test func linksOutsideTheGraphAreRefusedEvenWithAValidChecksum() throws {
        let (contents, _) = IndexFileTests.contents(rows: 300, mode: .approximate, sq8: false)
        guard case .graph = contents.storage else { Issue.record("not a graph: \(contents.storage.kindDescription)"); return }
        // The untouched file re-sealed reads: the forged trailer is the real one.
        #expect(try Self.sealedError(contents) { _, _ in } == nil)
        let outOfRange = try Self.sealedError(contents) { bytes, at in
            withUnsafeBytes(of: Int32(300).littleEndian) { for i in 0..<4 { bytes[at + 4 + i] = $0[i] } }  // node 0's first link
        }
        #expect(outOfRange?.problem.contains("layer-0 list of node 0") == true, "\(String(describing: outOfRange))")
        let overfull = try Self.sealedError(contents) { bytes, at in
            withUnsafeBytes(of: Int32(1000).littleEndian) { for i in 0..<4 { bytes[at + i] = $0[i] } }     // node 0's count
        }
        #expect(overfull?.problem.contains("layer-0 list of node 0") == true, "\(String(describing: overfull))")
    }

    @Test func aGraphGrowsByAddingAndSearchesLikeOneBuiltAtOnce() {
        let d = 16
        let all = ClusteredVectors(clusters: 12, dimension: d, latentDimension: 6, seed: 4).draw(3000, seed: 5)
        var options = IndexBuildOptions()
        options.mode = .approximate
        let first = IndexBuilder.build(rows: Tensor(shape: [2000, d], data: Array(all.data[0..<(2000 * d)])), dimension: d, options: options)
        guard case .graph(let old) = first else { Issue.record("not a graph"); return }
        let oldLinks = old.links0.array
        let grown = IndexBuilder.build(rows: all, dimension: d, options: options, previous: first)
        guard case .graph(let graph) = grown else { Issue.record("not a graph"); return }
        #expect(graph.count == 3000 && old.count == 2000 && old.links0.array == oldLinks)  // the old graph is untouched
        let queries = ClusteredVectors(clusters: 12, dimension: d, latentDimension: 6, seed: 4).draw(100, seed: 6)
        let truth = graph.exactIndex.search(queries, k: 10)
        let recall = SearchHit.recall(graph.search(queries, k: 10, ef: 64), truth, k: 10)
        let scratch = IndexBuilder.build(rows: all, dimension: d, options: options)
        guard case .graph(let once) = scratch else { Issue.record("not a graph"); return }
        let recallOnce = SearchHit.recall(once.search(queries, k: 10, ef: 64), truth, k: 10)
        #expect(recall > 0.97 && recall >= recallOnce - 0.02, "grown \(recall), built at once \(recallOnce)")
        // Changed old rows: a new graph, not a grown one.
        var changed = all.data
        changed[0] += 1
        let rebuilt = IndexBuilder.build(rows: Tensor(shape: [3000, d], data: changed), dimension: d, options: options, previous: first)
        guard case .graph(let fresh) = rebuilt else { Issue.record("not a graph"); return }
        #expect(fresh.rows.array == changed)
    }

    @Test func aFolderIndexedAsAGraphGrowsWithNewPictures() throws {
        let dir = try SearchTests.shapes(10)
        let m = try SearchTests.model(in: dir.deletingLastPathComponent())
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        var indexer = SearchTests.indexer(m)
        indexer.build.mode = .approximate
        let first = try indexer.update(folder: dir, indexFile: indexFile)
        #expect(first.storage.contains("graph"))
        let before = try IndexFile.read(from: indexFile)
        let synth = ShapesSynthesizer(seed: 5, imageSize: 24)
        try synth.image(at: 200).image.write(to: dir.appendingPathComponent("a/0-first-by-name.png"))
        let update = try indexer.update(folder: dir, indexFile: indexFile)
        #expect(update.encodedPaths == ["a/0-first-by-name.png"] && update.rows == 11)
        let after = try IndexFile.read(from: indexFile)
        // The old pictures keep their rows and order; the new one comes last.
        #expect(Array(after.files.map(\.path).prefix(10)) == before.files.map(\.path))
        #expect(after.files[10].path == "a/0-first-by-name.png")
        guard case .graph(let g0) = before.storage, case .graph(let g1) = after.storage else { Issue.record("not graphs"); return }
        #expect(Array(g1.rows.array.prefix(g0.rows.count)) == g0.rows.array)
        // On so few rows the beam covers the graph: the same scores as an exact search.
        let search = try ImageSearch(indexFile: indexFile)
        let rows = IndexBuilder.allRows(of: after.storage)
        var options = SearchOptions()
        options.k = 3
        let approximate = search.search(embeddings: rows, options: options)
        options.exact = true
        let exact = search.search(embeddings: rows, options: options)
        // (The graph scores with its own dot product, the flat scan with a GEMM: last bits differ.)
        let found = approximate.flatMap { $0.map(\.score) }, wanted = exact.flatMap { $0.map(\.score) }
        #expect(found.count == wanted.count && zip(found, wanted).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
