// Opening an index file: magic and version first, then every size and offset against the file's
// length, then the checksum over header and metadata (and over the rows when asked). Rows, codes
// and list ids are borrowed from the memory mapping, so opening costs no copy of the rows.
import Foundation
import Neural
import VectorIndex

extension IndexFile {
    /// Reads and checks the index at `url`. `verifyRows` also checks the rows' checksum (reads
    /// every row: ~0.1 s per GB); without it, damage inside the rows goes unnoticed until then.
    public static func read(from url: URL, verifyRows: Bool = false) throws -> IndexContents {
        let path = url.path
        func fail(_ problem: String) -> IndexFileError { IndexFileError(path: path, problem: problem) }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw fail(e.description.replacingOccurrences(of: "\(path): ", with: "")
                .replacingOccurrences(of: " \(path)", with: ""))
        }
        let all = file.bytes
        guard all.count >= 8, Array(all[0..<8]) == magic else {
            throw fail("not a retrieve index (no RTRVIDX1 magic)")
        }
        var r = ByteReader(bytes: all, position: 8)
        guard all.count >= headerSize + 8 else { throw fail("truncated: \(all.count) bytes, shorter than the header") }
        let version = r.u32()
        guard version == IndexFile.version else {
            if version > IndexFile.version {
                throw IndexFileError(path: path, problem: "format version \(version) is newer than this retrieve reads (\(IndexFile.version))",
                                     fix: "upgrade retrieve, or re-run retrieve index with this one")
            }
            throw fail("format version \(version) is no longer supported")
        }
        let flags = r.u32()
        guard r.u32() == UInt32(headerSize) else { throw fail("unexpected header size") }
        _ = r.u32()
        let n = Int(clamping: r.u64()), d = Int(r.u32())
        let storageKind = r.u32(), element = r.u32(), lists = Int(r.u32())
        var offsets = [Int](), lengths = [Int]()
        for _ in 0..<sectionCount {
            offsets.append(Int(clamping: r.u64()))
            lengths.append(Int(clamping: r.u64()))
        }
        let rowSum = r.u64(), declaredLength = Int(clamping: r.u64())
        guard declaredLength == all.count else {
            throw fail(declaredLength > all.count
                ? "truncated: \(all.count) bytes, the header says \(declaredLength)"
                : "\(all.count - declaredLength) unexpected bytes after the end")
        }
        guard storageKind <= 1, element <= 1, d > 0, n >= 0, (storageKind == 1) == (lists > 0) else {
            throw fail("damaged header (storage \(storageKind), element \(element), d \(d), lists \(lists))")
        }
        // Sections: aligned, inside the file, of the sizes the header implies.
        let elementSize = element == 0 ? 4 : 1
        let (nd, nOverflow) = n.multipliedReportingOverflow(by: d * elementSize)
        var expected: [Int?] = [nOverflow ? -1 : nd, lists * d * 4, lists == 0 ? 0 : (lists + 1) * 8,
                                storageKind == 1 ? n * 8 : 0, element == 1 ? 2 * d * 4 : 0, nil, nil, nil]
        if storageKind == 0 { expected[1] = 0 }
        for i in 0..<sectionCount {
            let (end, overflow) = offsets[i].addingReportingOverflow(lengths[i])
            guard offsets[i] >= headerSize, offsets[i] % alignment == 0, !overflow, end <= all.count - 8,
                  expected[i] == nil || expected[i] == lengths[i] else {
                throw fail("damaged section table (section \(i) at \(offsets[i]), \(lengths[i]) bytes, in a \(all.count)-byte file)")
            }
        }
        // Checksum of everything but the rows and the trailer.
        var sum = Checksum64()
        sum.update(UnsafeRawBufferPointer(rebasing: all[0..<offsets[0]]))
        sum.update(UnsafeRawBufferPointer(rebasing: all[(offsets[0] + lengths[0])..<(all.count - 8)]))
        guard sum.finalize() == all.loadUnaligned(fromByteOffset: all.count - 8, as: UInt64.self).littleEndian else {
            throw fail("checksum mismatch: the file is damaged")
        }
        if verifyRows && flags & 1 != 0 {
            var rows = Checksum64()
            rows.update(UnsafeRawBufferPointer(rebasing: all[offsets[0]..<(offsets[0] + lengths[0])]))
            guard rows.finalize() == rowSum else { throw fail("the embedding rows are damaged (row checksum mismatch)") }
        }
        func section(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: all[offsets[i]..<(offsets[i] + lengths[i])]) }
        func floats(_ i: Int) -> [Float] { section(i).withMemoryRebound(to: Float.self) { Array($0) } }
        let files = try fileTable(section(5), owner: file, fail: fail)
        let rejects = try fileTable(section(6), owner: file, fail: fail)
        guard files.count == n else { throw fail("\(files.count) files listed for \(n) rows") }
        var meta = ByteReader(bytes: section(7), position: 0)
        guard let modelPath = meta.string(), let fingerprint = meta.string(), let root = meta.string() else {
            throw fail("damaged metadata section")
        }
        let quantizer: ScalarQuantizer? = element == 1 ? { let v = floats(4); return ScalarQuantizer(minimum: Array(v[0..<d]), step: Array(v[d...])) }() : nil
        let storage: IndexStorage
        if storageKind == 0 {
            if let quantizer {
                storage = .flat(FlatIndex(quantizer: quantizer, codes: file.storage(of: UInt8.self, offset: offsets[0], count: n * d)))
            } else {
                storage = .flat(FlatIndex(dimension: d, rows: file.storage(of: Float.self, offset: offsets[0], count: n * d)))
            }
        } else {
            let listOffsets = section(2).withMemoryRebound(to: Int64.self) { $0.map { Int($0.littleEndian) } }
            guard listOffsets.first == 0, listOffsets.last == n, zip(listOffsets, listOffsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw fail("damaged IVF list offsets")
            }
            let ids = file.storage(of: Int64.self, offset: offsets[3], count: n)
            let badID = ids.withUnsafeBufferPointer { $0.contains { $0 < 0 || $0 >= n } }
            guard !badID else { throw fail("damaged IVF list ids") }
            storage = .ivf(IVFIndex(
                centroids: Tensor(shape: [lists, d], data: floats(1)), quantizer: quantizer, listOffsets: listOffsets,
                listIDs: ids,
                listRows: quantizer == nil ? file.storage(of: Float.self, offset: offsets[0], count: n * d) : RowStorage(),
                listCodes: quantizer == nil ? RowStorage() : file.storage(of: UInt8.self, offset: offsets[0], count: n * d)))
        }
        return IndexContents(storage: storage, files: files, rejects: rejects, modelPath: modelPath,
                             modelFingerprint: fingerprint, root: root)
    }

    /// Checks a file table's sizes and path offsets and maps it (no strings made).
    static func fileTable(_ bytes: UnsafeRawBufferPointer, owner: MappedFile, fail: (String) -> IndexFileError) throws -> FileTable {
        guard bytes.count >= 16 else { throw fail("damaged file table") }
        var r = ByteReader(bytes: bytes, position: 0)
        let count = Int(clamping: r.u64())
        let (stampBytes, o1) = count.multipliedReportingOverflow(by: 32)
        guard !o1, stampBytes + 16 <= bytes.count else { throw fail("damaged file table (\(count) entries)") }
        let endsStart = 8 + count * 24, blob = endsStart + (count + 1) * 8
        var previous = 0, monotonic = true
        for i in 0...count {
            let e = Int(clamping: bytes.loadUnaligned(fromByteOffset: endsStart + i * 8, as: UInt64.self).littleEndian)
            if (i == 0 && e != 0) || e < previous { monotonic = false }
            previous = e
        }
        guard monotonic, blob + previous == bytes.count else { throw fail("damaged file table (path offsets)") }
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        return FileTable(stamps: base + 8, ends: base + endsStart, paths: base + blob, count: count, owner: owner)
    }
}

/// Reads little-endian integers and strings; callers check the length first.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    mutating func u32() -> UInt32 {
        defer { position += 4 }
        return bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian
    }

    mutating func u64() -> UInt64 {
        defer { position += 8 }
        return bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian
    }

    /// A length-prefixed UTF-8 string, or nil when it would run past the end.
    mutating func string() -> String? {
        guard position + 4 <= bytes.count else { return nil }
        let length = Int(u32())
        guard position + length <= bytes.count else { return nil }
        defer { position += length }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]), as: UTF8.self)
    }
}
