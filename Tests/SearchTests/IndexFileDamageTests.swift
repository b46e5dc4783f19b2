// Damage to an index file is never served: a flipped bit in every class of byte (header, section
// table, rows, IVF tables, graph links, SQ8 ranges, stamps, path offsets, paths, metadata, row CRCs, padding,
// trailer) of flat, IVF, graph and SQ8 files is refused on open, with one line naming the file, what is
// damaged and the command that rebuilds it. Version 1 files (fixtures/index) are still read and
// checked. The CRC-32C kernel gives the standard values at both levels.
import CKernels
import Foundation
import Neural
import Testing
@testable import Search
@testable import VectorIndex

@Suite(.serialized)
struct IndexFileDamageTests {
    /// The byte ranges of each kind in a version-2 file, from its own section table.
    static func classes(of bytes: [UInt8]) -> [(String, Range<Int>)] {
        func u64(_ at: Int) -> Int { Int(bytes[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        let names = ["rows", "centroids", "list offsets", "list ids", "sq8", "files", "rejects", "meta", "row CRCs"]
        var out: [(String, Range<Int>)] = [("header", 0..<48), ("section table", 48..<192), ("header tail", 192..<256)]
        var end = 256
        for i in 0..<9 {
            let offset = u64(48 + 16 * i), length = u64(56 + 16 * i)
            if offset > end { out.append(("padding before \(names[i])", end..<offset)) }
            if i == 5 || i == 6 {
                let count = u64(offset), ends = offset + 8 + count * 24, paths = ends + (count + 1) * 8
                out.append(("\(names[i]) stamps", offset..<ends))
                out.append(("\(names[i]) path offsets", ends..<paths))
                if offset + length > paths { out.append(("\(names[i]) paths", paths..<(offset + length))) }
            } else if length > 0 {
                out.append((names[i], offset..<(offset + length)))
            }
            end = max(end, offset + length)
        }
        out.append(("trailer", (bytes.count - 8)..<bytes.count))
        return out
    }

    @Test(arguments: [(IndexBuildOptions.Mode.exact, false), (.exact, true), (.approximate, false), (.approximate, true), (.ivf, false)])
    func aFlippedBitAnywhereIsRefused(mode: IndexBuildOptions.Mode, sq8: Bool) throws {
        let url = try IndexFileTests.folder().appendingPathComponent("index.rtrv")
        try IndexFile.write(IndexFileTests.contents(mode: mode, sq8: sq8).0, to: url)
        let clean = [UInt8](try Data(contentsOf: url))
        _ = try IndexFile.read(from: url)
        var rng = SeededGenerator(seed: 11)
        var tried = 0, refused = 0
        for (name, range) in Self.classes(of: clean) where !range.isEmpty {
            // Every byte of small ranges, 24 spread over large ones, each with a different bit.
            let positions = range.count <= 64 ? Array(range)
                : (0..<24).map { _ in range.lowerBound + Int(rng.next() % UInt64(range.count)) }
            for position in positions {
                var bytes = clean
                bytes[position] ^= UInt8(1) << UInt8(position % 8)
                try Data(bytes).write(to: url)
                tried += 1
                do {
                    _ = try IndexFile.read(from: url)
                    Issue.record("a flipped bit at \(position) (\(name)) was not noticed")
                } catch let e as IndexFileError {
                    refused += 1
                    #expect(e.description.hasPrefix(url.path + ": ") && !e.description.contains("\n"))
                    #expect(e.description.hasSuffix("rebuild it: retrieve index DIR --index \(url.path))")
                            || e.problem.contains("newer"), "\(e)")
                }
            }
        }
        #expect(refused == tried && tried > 300, "\(refused) of \(tried) flips refused")
    }

    @Test func aDamagedBlockNamesItsRows() throws {
        let dir = try IndexFileTests.folder()
        let url = dir.appendingPathComponent(".retrieve/index.rtrv")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // 40,000 rows of 16 floats: 2.56 MB of rows, three 1 MiB blocks.
        let (contents, _) = IndexFileTests.contents(rows: 40_000, d: 16, mode: .exact, sq8: false)
        try IndexFile.write(contents, to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[IndexFile.headerSize + (1 << 20) + 5] ^= 0x40  // second block, row 16384
        try Data(bytes).write(to: url)
        #expect {
            _ = try IndexFile.read(from: url)
        } throws: { error in
            let text = "\(error)"
            return text == "\(url.path): the embedding rows are damaged (CRC mismatch in block 2 of 3, rows 16384–32767) (rebuild it: retrieve index \(dir.standardizedFileURL.path))"
        }
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/index")

    @Test func versionOneFilesAreReadAndChecked() throws {
        let v1 = Self.fixtures.appendingPathComponent("index-v1.rtrv")
        let contents = try IndexFile.read(from: v1)
        #expect(contents.formatVersion == 1 && contents.files.count == 12 && contents.storage.dimension == 16)
        let expected = try NPYReader.read(path: Self.fixtures.appendingPathComponent("small.npy").path)
        #expect(IndexBuilder.allRows(of: contents.storage).data == expected.data)
        // Its rows are checked by the version-1 checksum.
        let copy = try IndexFileTests.folder().appendingPathComponent("old.rtrv")
        var bytes = [UInt8](try Data(contentsOf: v1))
        bytes[192 + 17] ^= 0x08
        try Data(bytes).write(to: copy)
        #expect(throws: IndexFileError.self) { _ = try IndexFile.read(from: copy) }
    }

    @Test func crc32cGivesTheStandardValueAtEveryLevel() {
        let best = rk_crc32c_level()
        defer { rk_set_crc32c_level(best) }
        var rng = SeededGenerator(seed: 3)
        let data = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var results: [[UInt32]] = []
        for level in [Int32(0), 1] {
            rk_set_crc32c_level(level)
            #expect(rk_crc32c(0, "123456789", 9) == 0xE306_9283)
            let lengths = [0, 1, 7, 8, 9, 63, 24_575, 24_576, 24_577, 100_003, 299_990]
            results.append(data.withUnsafeBytes { raw in
                lengths.flatMap { n -> [UInt32] in
                    let offset = n % 5
                    let whole = rk_crc32c(0, raw.baseAddress! + offset, n)
                    let half = n / 3
                    let first = rk_crc32c(0, raw.baseAddress! + offset, half)
                    let continued = rk_crc32c(first, raw.baseAddress! + offset + half, n - half)
                    let combined = rk_crc32c_combine(first, rk_crc32c(0, raw.baseAddress! + offset + half, n - half), n - half)
                    #expect(continued == whole && combined == whole, "n \(n), level \(level)")
                    return [whole]
                }
            })
        }
        #expect(results[0] == results[1], "the SSE4.2 and portable loops disagree")
    }
}
