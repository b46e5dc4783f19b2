// Index file: a round trip searches like the in-memory index (flat, IVF, SQ8, graph) with rows mapped,
// not copied; truncated, foreign and future files are refused in one line naming the file and
// the fix; an interrupted write leaves the previous index whole and no temp file. Bit flips are
// in IndexFileDamageTests.swift.
import Foundation
import Neural
import Testing
@testable import Search
@testable import VectorIndex
import Retrieval
import Datasets

struct IndexFileTests {
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-indexfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func contents(rows n: Int = 300, d: Int = 16, mode: IndexBuildOptions.Mode, sq8: Bool, seed: UInt64 = 3,
                         graphQuantized: Bool = true) -> (IndexContents, Tensor) {
        let rows = ClusteredVectors(clusters: 10, dimension: d, latentDimension: 4, seed: seed).draw(n, seed: seed + 1)
        var options = IndexBuildOptions()
        options.graphQuantized = graphQuantized
        options.mode = mode
        options.scalarQuantized = sq8
        options.listCount = 8
        let storage = IndexBuilder.build(rows: rows, dimension: d, options: options)
        let files = (0..<n).map { IndexedFile(path: "pictures/é \($0).png", size: UInt64($0), modified: Int64($0) * 1_000_000_007, contentHash: UInt64($0) &* 77) }
        let rejects = [IndexedFile(path: "bad.jpg", size: 3, modified: 4, contentHash: 5)]
        return (IndexContents(storage: storage, files: FileTable(files), rejects: FileTable(rejects),
                              modelPath: "/models/m.safetensors", modelFingerprint: "0123456789abcdef", root: ".."), rows)
    }

    static func search(_ s: IndexStorage, _ q: Tensor) -> [[SearchHit]] {
        switch s {
        case .flat(let f): return f.search(q, k: 7)
        case .ivf(let i): return i.search(q, k: 7, nprobe: 3)
        case .graph(let g): return g.search(q, k: 7, ef: 20)
        }
    }

    @Test(arguments: [(IndexBuildOptions.Mode.exact, false), (.exact, true), (.approximate, false), (.approximate, true), (.ivf, false)])
    func roundTripSearchesLikeMemory(mode: IndexBuildOptions.Mode, sq8: Bool) throws {
        let (original, rows) = Self.contents(mode: mode, sq8: sq8)
        let url = try Self.folder().appendingPathComponent("index.rtrv")
        try IndexFile.write(original, to: url)
        let read = try IndexFile.read(from: url)
        #expect(read.files == original.files)
        #expect(read.rejects == original.rejects)
        #expect(read.modelPath == original.modelPath && read.modelFingerprint == original.modelFingerprint && read.root == "..")
        #expect(read.storage.kindDescription == original.storage.kindDescription)
        let queries = Tensor(shape: [5, 16], data: Array(rows.data[0..<(5 * 16)]))
        #expect(Self.search(read.storage, queries) == Self.search(original.storage, queries))
        // Rows are borrowed from the mapping, not copied.
        switch read.storage {
        case .flat(let f): #expect(sq8 ? f.codes.isBorrowed : f.rows.isBorrowed)
        case .ivf(let i): #expect((sq8 ? i.listCodes.isBorrowed : i.listRows.isBorrowed) && i.listIDs.isBorrowed)
        case .graph(let g): #expect(g.rows.isBorrowed && g.links0.isBorrowed && (g.upper.count == 0 || g.upper.isBorrowed))
        }
        // Every row survives, in id order.
        #expect(IndexBuilder.allRows(of: read.storage).data == IndexBuilder.allRows(of: original.storage).data)
    }

    @Test(arguments: [false, true]) func aGraphKeepsItsWalkCodesOrHasNone(quantized: Bool) throws {
        let (original, rows) = Self.contents(mode: .approximate, sq8: false, graphQuantized: quantized)
        let url = try Self.folder().appendingPathComponent("index.rtrv")
        try IndexFile.write(original, to: url)
        guard case .graph(let written) = original.storage, case .graph(let read) = try IndexFile.read(from: url).storage else {
            Issue.record("not a graph")
            return
        }
        #expect(read.isQuantized == quantized && read.quantizer == written.quantizer)
        #expect(read.codes.array == written.codes.array && read.codes.count == (quantized ? 300 * 16 : 0))
        #expect(!quantized || read.codes.isBorrowed)
        let queries = Tensor(shape: [5, 16], data: Array(rows.data[0..<(5 * 16)]))
        #expect(read.search(queries, k: 7, ef: 20) == written.search(queries, k: 7, ef: 20))
        // A flipped code is caught by the checksum over everything but the rows.
        var bytes = [UInt8](try Data(contentsOf: url))
        let codesStart = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 48 + 4 * 16, as: UInt64.self) }) + 2 * 16 * 4
        guard quantized else { return }
        bytes[codesStart + 77] ^= 1
        try Data(bytes).write(to: url)
        #expect(throws: IndexFileError.self) { try IndexFile.read(from: url) }
    }

    /// Writes a flat index, lets `damage` change its bytes, and returns the reading error.
    static func error(after damage: (inout [UInt8]) -> Void) throws -> IndexFileError? {
        let url = try folder().appendingPathComponent("index.rtrv")
        try IndexFile.write(contents(mode: .exact, sq8: false).0, to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        damage(&bytes)
        try Data(bytes).write(to: url)
        do {
            _ = try IndexFile.read(from: url)
            return nil
        } catch let e as IndexFileError {
            #expect(e.path == url.path && !e.description.contains("\n") && e.description.hasPrefix(url.path))
            return e
        }
    }

    @Test func truncatedFileIsRefused() throws {
        for keep in [10, 500, 20_000] {
            let e = try Self.error(after: { $0.removeLast($0.count - keep) })
            #expect(e?.description.contains("truncated") == true)
            #expect(e?.description.hasSuffix("(rebuild it: retrieve index DIR --index \(e?.path ?? ""))") == true, "\(String(describing: e))")
        }
    }

    @Test func wrongMagicAndFutureVersionAreRefused() throws {
        let magic = try Self.error(after: { $0[0] = UInt8(ascii: "X") })
        #expect(magic?.problem.contains("not a retrieve index") == true)
        let future = try Self.error(after: { $0[8] = UInt8(IndexFile.version + 1) })
        #expect(future?.problem.contains("newer") == true)
        #expect(future?.fix.contains("upgrade retrieve") == true)
    }

    @Test func interruptedWriteLeavesThePreviousIndex() throws {
        struct Killed: Error {}
        let dir = try Self.folder()
        let url = dir.appendingPathComponent("index.rtrv")
        let (old, _) = Self.contents(mode: .exact, sq8: false, seed: 3)
        try IndexFile.write(old, to: url)
        let (new, _) = Self.contents(rows: 500, mode: .approximate, sq8: false, seed: 9)
        for cut in [1, 192, 4000, 30_000] {
            #expect(throws: Killed.self) {
                try IndexFile.write(new, to: url, interrupt: { written in if written >= cut { throw Killed() } })
            }
            let read = try IndexFile.read(from: url)
            #expect(read.files == old.files)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["index.rtrv"])
        }
    }
}
