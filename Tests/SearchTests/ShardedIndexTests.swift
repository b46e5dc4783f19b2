// A sharded index returns exactly the top k of one index over the same files: the same paths in
// the same order with the same scores, ties included (by path, as one flat index breaks them),
// for 2 and 3 shards, one query and a batch, every k; also when a shard's own row order is not
// path order (its ties reach the cut and it is asked for more). A damaged, missing, rewritten or
// foreign shard is refused in one error naming its file. Re-indexing is incremental per shard.
import Foundation
import Neural
import Testing
@testable import Search
@testable import VectorIndex
import Retrieval
import Datasets

struct ShardedIndexTests {
    static let fingerprint = "0123456789abcdef"

    /// n files of d-dimensional rows in path order, with many exact ties: rows come from 12
    /// distinct vectors (so every score is shared by several files in different shards).
    static func collection(n: Int = 150, d: Int = 16) -> (files: [IndexedFile], rows: [Float]) {
        let distinct = ClusteredVectors(clusters: 4, dimension: d, latentDimension: 4, seed: 9).draw(12, seed: 10)
        var files: [IndexedFile] = [], rows: [Float] = []
        for i in 0..<n {
            files.append(IndexedFile(path: String(format: "p/%03d.png", (i * 37) % n), size: UInt64(i), modified: 0, contentHash: UInt64(i)))
            let v = (i * 5) % 12
            rows += distinct.data[(v * d)..<(v * d + d)]
        }
        let order = files.indices.sorted { files[$0].path < files[$1].path }
        return (order.map { files[$0] }, order.flatMap { rows[($0 * d)..<($0 * d + d)] })
    }

    /// An index file of the given files and rows (flat), in that row order.
    static func write(_ files: [IndexedFile], _ rows: [Float], d: Int, to url: URL, fingerprint: String = fingerprint) throws {
        let storage = IndexStorage.flat(FlatIndex(dimension: d, rows: RowStorage(rows)))
        try IndexFile.write(IndexContents(storage: storage, files: FileTable(files), modelPath: "/m.safetensors",
                                          modelFingerprint: fingerprint, root: "/pictures"), to: url)
    }

    /// The collection as `count` shards and a manifest in `folder`; `reversed` stores each
    /// shard's rows in reverse path order (a shard whose ties the heap breaks the other way).
    static func shards(_ c: (files: [IndexedFile], rows: [Float]), d: Int, count: Int, in folder: URL, reversed: Bool = false) throws -> URL {
        let manifest = folder.appendingPathComponent("index.json")
        for (s, file) in ShardManifest.shardFiles(count: count, beside: manifest).enumerated() {
            var picked = c.files.indices.filter { IndexShard(s, of: count).holds(c.files[$0].path) }
            if reversed { picked.reverse() }
            try write(picked.map { c.files[$0] }, picked.flatMap { c.rows[($0 * d)..<($0 * d + d)] }, d: d, to: file)
        }
        try ShardManifest.write(count: count, to: manifest)
        return manifest
    }

    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// (path, score bits) of each result list.
    static func answers(_ index: ShardedIndex, _ queries: Tensor, k: Int, exact: Bool = false) -> [[String]] {
        var options = SearchOptions()
        options.exact = exact
        return index.search(queries, k: k, options: options).map { list in
            list.map { "\(index.file($0.id).path) \($0.score.bitPattern)" }
        }
    }

    @Test(arguments: [(2, false), (3, false), (2, true), (3, true)])
    func shardsReturnTheTopKOfOneIndex(count: Int, reversed: Bool) throws {
        let d = 16, c = Self.collection(d: d)
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.write(c.files, c.rows, d: d, to: dir.appendingPathComponent("one.rtrv"))
        let one = try ShardedIndex.open(dir.appendingPathComponent("one.rtrv"))
        let sharded = try ShardedIndex.open(try Self.shards(c, d: d, count: count, in: dir, reversed: reversed))
        #expect(sharded.count == 150 && sharded.shardCount == count && sharded.parts.allSatisfy { $0.contents.files.count > 0 })
        // 12 queries (a batch) and each alone; the stored vectors themselves tie 12 or 13 files each.
        let queries = ClusteredVectors(clusters: 4, dimension: d, latentDimension: 4, seed: 9).draw(12, seed: 10)
        for k in [1, 5, 12, 13, 26, 40, 150, 200] {
            let expected = Self.answers(one, queries, k: k)
            #expect(expected.allSatisfy { $0.count == min(k, 150) })
            #expect(Self.answers(sharded, queries, k: k) == expected, "k \(k), \(count) shards, reversed \(reversed)")
            let alone = Tensor(shape: [1, d], data: Array(queries.data[0..<d]))
            #expect(Self.answers(sharded, alone, k: k) == [expected[0]], "k \(k), one query")
        }
        // Ties really are at the cut: the 13 best of query 0 share one score, and are the 13 first paths of that score.
        let top = one.search(Tensor(shape: [1, d], data: Array(queries.data[0..<d])), k: 13, options: SearchOptions())[0]
        #expect(Set(top.map(\.score)).count == 1 && top.map { one.file($0.id).path } == top.map { one.file($0.id).path }.sorted())
    }

    @Test func globalIdsNameTheShardsFilesAndRows() throws {
        let d = 16, c = Self.collection(d: d)
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sharded = try ShardedIndex.open(try Self.shards(c, d: d, count: 3, in: dir))
        #expect(Set(sharded.files.map(\.path)) == Set(c.files.map(\.path)))
        for id in [0, 49, 50, 51, 99, 149] {
            let path = sharded.file(id).path
            let original = c.files.firstIndex { $0.path == path }!
            #expect(sharded.rows([id]).data == Array(c.rows[(original * d)..<(original * d + d)]), "id \(id)")
        }
        // A rank that opens only shard 1 keeps the global ids of its rows.
        let part = try ShardedIndex.open(dir.appendingPathComponent("index.json"), only: [1])
        #expect(part.count == 150 && part.parts.count == 1 && part.parts[0].firstID == sharded.parts[1].firstID)
        #expect(part.file(part.parts[0].firstID) == sharded.file(sharded.parts[1].firstID))
    }

    @Test func aDamagedMissingRewrittenOrForeignShardIsRefusedByName() throws {
        let d = 16, c = Self.collection(d: d)
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try Self.shards(c, d: d, count: 3, in: dir)
        let shard1 = dir.appendingPathComponent("index-1-of-3.rtrv")
        func refusal(_ body: () throws -> Void) -> String {
            do { try body(); return "opened" } catch { return "\(error)" }
        }
        // A flipped byte in the rows: the shard's own row checksum names it.
        var bytes = try Data(contentsOf: shard1)
        let saved = bytes
        bytes[300] ^= 0x40
        try bytes.write(to: shard1)
        var message = refusal { _ = try ShardedIndex.open(manifest) }
        #expect(message.contains(shard1.path) && message.contains("damaged"), "\(message)")
        // Rewritten after the manifest (another shard's bytes): the manifest's trailer names it.
        try Data(contentsOf: dir.appendingPathComponent("index-2-of-3.rtrv")).write(to: shard1)
        message = refusal { _ = try ShardedIndex.open(manifest) }
        #expect(message.contains(shard1.path) && message.contains("does not match index.json"), "\(message)")
        // Missing.
        try FileManager.default.removeItem(at: shard1)
        message = refusal { _ = try ShardedIndex.open(manifest) }
        #expect(message.contains(shard1.path) && message.contains("missing"), "\(message)")
        try saved.write(to: shard1)
        #expect(try ShardedIndex.open(manifest).count == 150)
        // The manifest's own bytes.
        let text = try String(contentsOf: manifest, encoding: .utf8)
        #expect(text.contains("/m.safetensors"))
        try text.replacingOccurrences(of: "/m.safetensors", with: "/n.safetensors").write(to: manifest, atomically: true, encoding: .utf8)
        message = refusal { _ = try ShardedIndex.open(manifest) }
        #expect(message.contains(manifest.path) && message.contains("damaged manifest"), "\(message)")
        // A shard made by another model is refused when the manifest is written, naming it.
        let picked = c.files.indices.filter { IndexShard(1, of: 3).holds(c.files[$0].path) }
        try Self.write(picked.map { c.files[$0] }, picked.flatMap { c.rows[($0 * d)..<($0 * d + d)] }, d: d, to: shard1,
                       fingerprint: "fedcba9876543210")
        #expect(throws: SearchError.shardModelMismatch(shard: shard1.path, expected: Self.fingerprint, found: "fedcba9876543210")) {
            try ShardManifest.write(count: 3, to: manifest)
        }
    }

    @Test func shardOfAPathIsFNV1aModuloTheCount() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector).
        #expect(IndexShard.shard(of: "a", count: 1 << 30) == Int(0xaf63_dc4c_8601_ec8c % UInt64(1 << 30)))
        #expect(IndexShard(parsing: "2/4") == IndexShard(2, of: 4))
        #expect(IndexShard(parsing: "4/4") == nil && IndexShard(parsing: "x") == nil && IndexShard(parsing: "1/0") == nil)
        #expect(IndexShard.shards(count: 5, rank: 1, ranks: 2).map(\.index) == [1, 3])
    }

    @Test func reindexingRewritesOnlyTheShardsThatChanged() throws {
        let dir = try SearchTests.shapes(12)
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try SearchTests.model(in: dir.deletingLastPathComponent(), seed: 4)
        let manifest = ShardManifest.defaultFile(forFolder: dir)
        let files = ShardManifest.shardFiles(count: 3, beside: manifest)
        func run() throws -> [IndexingReport] {
            try (0..<3).map { s in
                var indexer = SearchTests.indexer(m)
                indexer.shard = IndexShard(s, of: 3)
                return try indexer.update(folder: dir, indexFile: files[s])
            }
        }
        let first = try run()
        #expect(first.map(\.rows).reduce(0, +) == 12 && first.allSatisfy(\.wroteFile))
        try ShardManifest.write(count: 3, to: manifest)
        let path = "a/new.png"
        try ShapesSynthesizer(seed: 5, imageSize: 24).image(at: 200).image.write(to: dir.appendingPathComponent(path))
        let again = try run()
        let target = IndexShard.shard(of: path, count: 3)
        #expect(again.map(\.wroteFile) == (0..<3).map { $0 == target }, "\(again.map(\.wroteFile)), new picture in shard \(target)")
        #expect(again[target].encodedPaths == [path] && again[target].added == 1)
        try ShardManifest.write(count: 3, to: manifest)
        let search = try ImageSearch(indexFile: manifest)
        #expect(search.index.count == 13 && search.root.path == dir.standardizedFileURL.path)
        #expect(try search.search(texts: ["red circle"], options: SearchOptions()).results[0].count == 10)
    }
}
