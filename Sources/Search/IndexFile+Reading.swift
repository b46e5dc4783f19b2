// Opening an index file: magic and version first, then every size and offset against the file's
// length, then the checksum over header and tables, then the rows' CRCs block by block. Rows,
// codes and list ids are borrowed from the memory mapping, so opening costs no copy of the rows.
import Foundation
import Neural
import VectorIndex

extension IndexFile {
    /// Reads and checks the index at `url`, rows included: a damaged byte anywhere is an
    /// `IndexFileError`, never a result. Checking 1 GB of rows takes a few hundredths of a second.
    public static func read(from url: URL) throws -> IndexContents {
        try read(from: url, checkingRows: true)
    }

    /// The model path an index records, for rebuilding an index whose rows are damaged: the
    /// header and tables are checked, the rows are not (nothing is searched).
    public static func recordedModel(in url: URL) throws -> String {
        try read(from: url, checkingRows: false).modelPath
    }

    static func read(from url: URL, checkingRows: Bool) throws -> IndexContents {
        let path = url.path
        func fail(_ problem: String) -> IndexFileError { IndexFileError(path: path, problem: problem) }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw IndexFileError(path: path, problem: e.description.replacingOccurrences(of: "\(path): ", with: "")
                .replacingOccurrences(of: " \(path)", with: ""), fix: "check the path and its permissions")
        }
        let all = file.bytes
        guard all.count >= 8, Array(all[0..<8]) == magic else {
            throw IndexFileError(path: path, problem: "not a retrieve index (no RTRVIDX1 magic)",
                                 fix: "give the .retrieve/index.rtrv that retrieve index wrote, or " + IndexFileError.rebuild(path))
        }
        guard all.count >= 192 + 8 else { throw fail("truncated: \(all.count) bytes, shorter than the header") }
        var r = ByteReader(bytes: all, position: 8)
        let version = r.u32()
        guard (1...4).contains(version) else {
            if version > IndexFile.version && version < 1000 {
                throw IndexFileError(path: path, problem: "format version \(version) is newer than this retrieve reads (\(IndexFile.version))",
                                     fix: "upgrade retrieve, or " + IndexFileError.rebuild(path) + " with this one")
            }
            throw fail("damaged header (format version \(version))")
        }
        let layout = version == 1 ? (header: 192, sections: 8) : (header: headerSize, sections: sectionCount)
        let flags = r.u32()
        guard r.u32() == UInt32(layout.header), all.count >= layout.header + 8 else { throw fail("damaged header (header size)") }
        _ = r.u32()
        let n = Int(clamping: r.u64()), d = Int(r.u32())
        let storageKind = r.u32(), element = r.u32(), lists = Int(r.u32())
        var offsets = [Int](), lengths = [Int]()
        for _ in 0..<layout.sections {
            offsets.append(Int(clamping: r.u64()))
            lengths.append(Int(clamping: r.u64()))
        }
        let rowSum = r.u64()  // version 1: Checksum64 of the rows; version 2: the row block size
        let declaredLength = Int(clamping: r.u64())
        guard declaredLength == all.count else {
            throw fail(declaredLength > all.count
                ? "truncated or damaged: \(all.count) bytes, the header says \(declaredLength)"
                : "damaged: \(all.count - declaredLength) unexpected bytes after the end the header gives")
        }
        guard storageKind <= 2, element <= (storageKind == 2 && version < 4 ? 0 : 1), d > 0, d < 1 << 20, n >= 0, lists >= 0, (storageKind == 1) == (lists > 0),
              version == 1 || (flags & 2 != 0 && rowSum > 0 && rowSum <= 1 << 30) else {
            throw fail("damaged header (storage \(storageKind), element \(element), d \(d), lists \(lists))")
        }
        // Sections: aligned, inside the file, of the sizes the header implies.
        let elementSize = element == 0 || storageKind == 2 ? 4 : 1
        let (nd, nOverflow) = n.multipliedReportingOverflow(by: d * elementSize)
        guard !nOverflow, nd <= all.count, n <= all.count / 8 else { throw fail("damaged header (\(n) rows of \(d) in a \(all.count)-byte file)") }
        let (ld, lOverflow) = lists.multipliedReportingOverflow(by: d * 4)
        let blockSize = version >= 2 ? Int(truncatingIfNeeded: rowSum) : 0
        var expected: [Int?] = [nd, storageKind != 1 ? 0 : (lOverflow ? -1 : ld), lists == 0 ? 0 : (lists + 1) * 8,
                                storageKind == 1 ? n * 8 : 0, element == 1 ? 2 * d * 4 : 0, nil, nil, nil]
        if storageKind == 2 {
            (expected[1], expected[2], expected[3]) = (24 + 9 * n, nil, nil)
            if element == 1 { expected[4] = 2 * d * 4 + n * d }
        }
        if version >= 2 { expected.append((nd + blockSize - 1) / blockSize * 4) }
        for i in 0..<layout.sections {
            let (end, overflow) = offsets[i].addingReportingOverflow(lengths[i])
            guard offsets[i] >= layout.header, offsets[i] % alignment == 0, !overflow, end <= all.count - 8,
                  expected[i] == nil || expected[i] == lengths[i] else {
                throw fail("damaged section table (section \(i) at \(offsets[i]), \(lengths[i]) bytes, in a \(all.count)-byte file)")
            }
        }
        // Checksum of everything but the rows and the trailer.
        let rows = UnsafeRawBufferPointer(rebasing: all[offsets[0]..<(offsets[0] + lengths[0])])
        var sum = Checksum64()
        sum.update(UnsafeRawBufferPointer(rebasing: all[0..<offsets[0]]))
        sum.update(UnsafeRawBufferPointer(rebasing: all[(offsets[0] + lengths[0])..<(all.count - 8)]))
        guard sum.finalize() == all.loadUnaligned(fromByteOffset: all.count - 8, as: UInt64.self).littleEndian else {
            throw fail("damaged: checksum mismatch in the header or tables")
        }
        if checkingRows && version == 1 {
            var whole = Checksum64()
            whole.update(rows)
            guard flags & 1 == 0 || whole.finalize() == rowSum else { throw fail("the embedding rows are damaged (row checksum mismatch)") }
        } else if checkingRows, let k = RowBlocks.firstMismatch(in: rows, blockSize: blockSize, expected: UnsafeRawBufferPointer(rebasing: all[offsets[8]..<(offsets[8] + lengths[8])])) {
            let rowBytes = d * elementSize
            let first = k * blockSize / rowBytes, last = min(n, ((k + 1) * blockSize + rowBytes - 1) / rowBytes) - 1
            throw fail("the embedding rows are damaged (CRC mismatch in block \(k + 1) of \((lengths[0] + blockSize - 1) / blockSize), \(storageKind == 1 ? "list positions" : "rows") \(first)–\(last))")
        }
        func section(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: all[offsets[i]..<(offsets[i] + lengths[i])]) }
        /// The first `count` Floats of section i (all of them when nil).
        func floats(_ i: Int, count: Int? = nil) -> [Float] {
            let bytes = section(i)
            return UnsafeRawBufferPointer(rebasing: bytes[0..<(count.map { $0 * 4 } ?? bytes.count)])
                .withMemoryRebound(to: Float.self) { Array($0) }
        }
        let files = try fileTable(section(5), owner: file, members: version >= 3, fail: fail)
        let rejects = try fileTable(section(6), owner: file, members: version >= 3, fail: fail)
        guard files.count == n else { throw fail("\(files.count) files listed for \(n) rows") }
        var meta = ByteReader(bytes: section(7), position: 0)
        guard let modelPath = meta.string(), let fingerprint = meta.string(), let root = meta.string() else {
            throw fail("damaged metadata section")
        }
        let quantizer: ScalarQuantizer? = element == 1 ? { let v = floats(4, count: 2 * d); return ScalarQuantizer(minimum: Array(v[0..<d]), step: Array(v[d...])) }() : nil
        let storage: IndexStorage
        if storageKind == 0 {
            if let quantizer {
                storage = .flat(FlatIndex(quantizer: quantizer, codes: file.storage(of: UInt8.self, offset: offsets[0], count: n * d)))
            } else {
                storage = .flat(FlatIndex(dimension: d, rows: file.storage(of: Float.self, offset: offsets[0], count: n * d)))
            }
        } else if storageKind == 2 {
            storage = .graph(try graph(n: n, d: d, file: file, offsets: offsets, lengths: lengths, quantizer: quantizer, fail: fail))
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
        var contents = IndexContents(storage: storage, files: files, rejects: rejects, modelPath: modelPath,
                                     modelFingerprint: fingerprint, root: root)
        contents.formatVersion = version
        return contents
    }

    /// The graph of sections 0–3 (and its codes in 4 when `quantizer` is given): rows, links and
    /// codes borrowed from the mapping, every link checked.
    static func graph(n: Int, d: Int, file: MappedFile, offsets: [Int], lengths: [Int], quantizer: ScalarQuantizer?,
                      fail: (String) -> IndexFileError) throws -> GraphIndex {
        let head = UnsafeRawBufferPointer(rebasing: file.bytes[offsets[1]..<(offsets[1] + lengths[1])])
        var r = ByteReader(bytes: head, position: 0)
        let m = Int(r.u32()), efConstruction = Int(r.u32()), entry = Int32(bitPattern: r.u32()), efSearch = Int(r.u32())
        let seed = r.u64()
        let upperOffset = (0..<n).map { Int64(bitPattern: head.loadUnaligned(fromByteOffset: 24 + 8 * $0, as: UInt64.self).littleEndian) }
        let levels = Array(UnsafeRawBufferPointer(rebasing: head[(24 + 8 * n)...]))
        guard (2...127).contains(m), lengths[2] == n * (2 * m + 1) * 4, lengths[3] % ((m + 1) * 4) == 0, efSearch > 0 else {
            throw fail("damaged graph (M \(m), layer-0 section \(lengths[2]) bytes, upper section \(lengths[3]) bytes)")
        }
        do {
            let graph = try GraphIndex(
                dimension: d, neighbors: m, efConstruction: efConstruction, seed: seed,
                rows: file.storage(of: Float.self, offset: offsets[0], count: n * d), levels: levels,
                links0: file.storage(of: Int32.self, offset: offsets[2], count: lengths[2] / 4),
                upper: file.storage(of: Int32.self, offset: offsets[3], count: lengths[3] / 4),
                upperOffset: upperOffset, entryPoint: entry, quantizer: quantizer,
                codes: quantizer == nil ? RowStorage() : file.storage(of: UInt8.self, offset: offsets[4] + 2 * d * 4, count: n * d))
            graph.efSearch = efSearch
            return graph
        } catch let e as GraphPartsError {
            throw fail("damaged \(e.description)")
        }
    }

    /// Checks a file table's sizes and path offsets and maps it (no strings made).
    /// `members`: the table ends in the member triples (version 3), each checked to name a
    /// prefix of its path.
    static func fileTable(_ bytes: UnsafeRawBufferPointer, owner: MappedFile, members: Bool,
                          fail: (String) -> IndexFileError) throws -> FileTable {
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
        let tail = members ? count * 24 : 0
        guard monotonic, previous <= bytes.count, blob + previous + tail == bytes.count else { throw fail("damaged file table (path offsets)") }
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        let memberStart = blob + previous
        if members {
            for i in 0..<count {
                let length = bytes.loadUnaligned(fromByteOffset: memberStart + i * 24, as: UInt64.self).littleEndian
                let lo = bytes.loadUnaligned(fromByteOffset: endsStart + i * 8, as: UInt64.self).littleEndian
                let hi = bytes.loadUnaligned(fromByteOffset: endsStart + (i + 1) * 8, as: UInt64.self).littleEndian
                guard length < hi - lo || length == 0 else { throw fail("damaged file table (entry \(i)'s archive)") }
            }
        }
        return FileTable(stamps: base + 8, ends: base + endsStart, paths: base + blob, members: members ? base + memberStart : nil,
                         count: count, owner: owner)
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
