// The index file (.rtrv): one binary file holding the embedding rows (memory-mappable in place),
// the IVF and SQ8 sections, the indexed files with their stamps, and the model that made the rows.
// This file defines the layout and writes it; IndexFile+Reading.swift checks and maps it, and
// IndexFile+Checksums.swift checks the rows.
//
// Layout (version 4), little-endian; every section starts on a 64-byte boundary (zero padding):
//   0   magic "RTRVIDX1"                 8 bytes
//   8   format version UInt32 (2)        12  flags UInt32 (bit 1: row block CRCs present)
//   16  header size UInt32 (256)         20  reserved UInt32 (0)
//   24  row count UInt64                 32  dimension UInt32
//   36  storage UInt32 (0 flat, 1 IVF, 2 graph)   40  element UInt32 (0 float32, 1 SQ8 codes)
//   44  IVF list count UInt32 (0 for flat)
//   48  section table, 9 × (offset UInt64, length UInt64), in this order:
//         0 rows       n×d Float32 or n×d UInt8 (IVF: in list order)
//         1 centroids  lists×d Float32            2 list offsets  (lists+1) × Int64
//         3 list ids   n × Int64 (row id of each list position)
//       a graph (rows in id order, Float32) uses sections 1–3 for its links instead:
//         1 graph      M UInt32, efConstruction UInt32, entry point Int32, efSearch UInt32,
//                      seed UInt64, n × Int64 upper-list offsets (−1: layer 0 only), n × UInt8 layers
//         2 layer 0    n × (2M+1) Int32: a count, then the neighbour ids
//         3 upper      Σ layers × (M+1) Int32, node after node, layer 1 first
//         4 sq8        d Float32 minimum, then d Float32 step; a quantised graph (element 1,
//                      its rows still Float32) follows them with its walk's n×d UInt8 codes
//         5 files      file table (below), row i = file i    6 rejects  file table of undecodable files
//         7 meta       3 strings (UInt32 length + UTF-8): model path, model fingerprint, root folder
//         8 row CRCs   one UInt32 CRC-32C per row block: bytes [k·B, min((k+1)·B, rows)) of section 0
//   192 row block size B UInt64 (1 MiB)  200 file length UInt64      208…255 zero
//   256 … sections …
//   last 8 bytes: Checksum64 of every byte before them except section 0 (header, tables, CRCs).
// A file table: count UInt64; count × (size UInt64, mtime ns Int64, content hash UInt64);
// (count+1) × UInt64 offsets into the path bytes; the UTF-8 path bytes (relative to the root);
// since version 3, count × (archive path length UInt64, archive size UInt64, member offset
// UInt64): all zero for a loose file, else the tar shard holding the picture and where.
// Every open checks all of it: the trailer over everything but the rows, and the rows block by
// block (CRC-32C at memory speed, on every core), so nothing damaged is ever searched.
// Version 1 (header 192 bytes, 8 sections, one Checksum64 of the rows at 176, the length at
// 184) is still read, its rows checked by that checksum, and version 2 (file tables without
// the member triples), and version 3 (no graph codes); `retrieve index` rewrites any as 4.
import Foundation
import Neural
import VectorIndex

/// One indexed (or rejected) file: where it is and what it looked like when read.
public struct IndexedFile: Sendable, Equatable, Hashable {
    /// Path relative to the index's root folder, "/"-separated.
    public var path: String
    public var size: UInt64
    /// Modification time in nanoseconds since 1970.
    public var modified: Int64
    /// Checksum64 of the file's bytes.
    public var contentHash: UInt64
    /// A member of a tar shard: where its bytes lie in the archive. Then `path` is
    /// "ARCHIVE/MEMBER", `size` the member's bytes and `modified` the archive's time.
    public var member: ArchiveMember?

    public init(path: String, size: UInt64, modified: Int64, contentHash: UInt64, member: ArchiveMember? = nil) {
        self.path = path
        self.size = size
        self.modified = modified
        self.contentHash = contentHash
        self.member = member
    }

    /// The archive's path ("shards/000001.tar") for a tar member, else nil.
    public var archivePath: String? {
        member?.archive(in: path)
    }
}

/// Where a tar member's bytes are: `IndexedFile.size` bytes at `offset` of the archive, which
/// was `archiveSize` bytes long when indexed.
public struct ArchiveMember: Sendable, Equatable, Hashable, Codable {
    /// UTF-8 bytes of the indexed path that name the archive (the path's prefix before "/").
    public var archivePathLength: Int
    public var archiveSize: UInt64
    public var offset: UInt64

    public init(archivePathLength: Int, archiveSize: UInt64, offset: UInt64) {
        self.archivePathLength = archivePathLength
        self.archiveSize = archiveSize
        self.offset = offset
    }

    /// The archive's part of the member's indexed `path` ("shards/000001.tar").
    public func archive(in path: String) -> String {
        String(decoding: path.utf8.prefix(archivePathLength), as: UTF8.self)
    }
}

/// The searchable rows of an index: exact (flat) or inverted lists, Float32 or SQ8.
public enum IndexStorage: Sendable {
    case flat(FlatIndex)
    case ivf(IVFIndex)
    case graph(GraphIndex)

    /// How the rows are searched, as a build names its choice.
    public var kind: IndexBuildOptions.Kind {
        switch self {
        case .flat: return .flat
        case .ivf: return .ivf
        case .graph: return .graph
        }
    }

    public var count: Int {
        switch self {
        case .flat(let f): return f.count
        case .ivf(let i): return i.count
        case .graph(let g): return g.count
        }
    }

    public var dimension: Int {
        switch self {
        case .flat(let f): return f.dimension
        case .ivf(let i): return i.dimension
        case .graph(let g): return g.dimension
        }
    }

    /// A graph whose walk has codes beside its Float32 rows (header element 1, codes in section 4).
    var isQuantizedGraph: Bool {
        if case .graph(let g) = self { return g.quantizer != nil }
        return false
    }

    public var quantizer: ScalarQuantizer? {
        switch self {
        case .flat(let f): return f.quantizer
        case .ivf(let i): return i.quantizer
        case .graph: return nil
        }
    }

    /// "exact", "approximate (IVF, N lists)" or "approximate (graph, M links)", with ", SQ8"
    /// when quantised; for messages.
    public var kindDescription: String {
        let sq = quantizer == nil ? "" : ", SQ8"
        switch self {
        case .flat: return "exact (flat\(sq))"
        case .ivf(let i): return "approximate (IVF, \(i.listCount) lists\(sq))"
        case .graph(let g): return "approximate (graph, \(g.neighbors) links per node)"
        }
    }
}

/// Everything an index file holds.
public struct IndexContents: Sendable {
    public var storage: IndexStorage
    /// Row i's file; `files.count == storage.count`.
    public var files: FileTable
    /// Files that looked like images but could not be decoded, so an unchanged re-run skips them.
    public var rejects: FileTable
    /// The model file the rows were made with, as it was given (absolute).
    public var modelPath: String
    public var modelFingerprint: String
    /// The indexed folder: relative to the index file's folder, or absolute.
    public var root: String
    /// The format version of the file it was read from (`IndexFile.version` when built here):
    /// an update rewrites an older file even when nothing else changed.
    public internal(set) var formatVersion = IndexFile.version

    public init(storage: IndexStorage, files: FileTable, rejects: FileTable = FileTable(),
                modelPath: String, modelFingerprint: String, root: String) {
        precondition(storage.count == files.count, "IndexContents: \(storage.count) rows but \(files.count) files")
        self.storage = storage
        self.files = files
        self.rejects = rejects
        self.modelPath = modelPath
        self.modelFingerprint = modelFingerprint
        self.root = root
    }
}

/// A damaged, foreign or outdated index file; one line naming the file, the problem and what to do.
public struct IndexFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String
    /// What to do about it (by default: the command that rebuilds the index).
    public var fix: String
    public var description: String { "\(path): \(problem) (\(fix))" }

    public init(path: String, problem: String, fix: String? = nil) {
        self.path = path
        self.problem = problem
        self.fix = fix ?? Self.rebuild(path)
    }

    /// "rebuild it: retrieve index DIR" for DIR/.retrieve/index.rtrv, else with --index.
    public static func rebuild(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let folder = url.deletingLastPathComponent()
        if folder.lastPathComponent == IndexLocation.folderName && url.lastPathComponent == IndexLocation.fileName {
            return "rebuild it: retrieve index \(folder.deletingLastPathComponent().path)"
        }
        return "rebuild it: retrieve index DIR --index \(path)"
    }
}

public enum IndexFile {
    static let magic = Array("RTRVIDX1".utf8)
    /// The version this retrieve writes; it reads this one, 3, 2 and 1.
    public static let version: UInt32 = 4
    static let headerSize = 256
    static let sectionCount = 9
    static let alignment = 64
    /// Bytes of rows per CRC: small enough that a damaged block names a narrow row range and
    /// threads share the work evenly, large enough that the CRC table stays tiny (4 KB per GB).
    static let rowBlockSize = 1 << 20

    /// The padded offset at or after `x`.
    static func aligned(_ x: Int) -> Int { (x + alignment - 1) / alignment * alignment }

    /// Writes `contents` to `url` atomically (temporary file, fsync, rename): a crash at any
    /// moment leaves the previous file whole. `interrupt` (tests) sees the bytes written so far
    /// and may throw to abandon the write.
    public static func write(_ contents: IndexContents, to url: URL) throws {
        try write(contents, to: url, interrupt: nil)
    }

    static func write(_ contents: IndexContents, to url: URL, interrupt: ((Int) throws -> Void)?) throws {
        let s = contents.storage
        let n = s.count, d = s.dimension
        // Large sections (links, list ids) are emitted from their storage, not copied.
        // A section is emitted part after part.
        var sections = [[any ContiguousBytes]](repeating: [], count: sectionCount)
        var listCount = 0
        var storageKind: UInt32 = 0
        if case .ivf(let ivf) = s {
            storageKind = 1
            listCount = ivf.listCount
            sections[1] = [bytes(of: ivf.centroids.data)]
            sections[2] = [bytes(of: ivf.listOffsets.map(Int64.init))]
            sections[3] = [ivf.listIDs]
        } else if case .graph(let graph) = s {
            storageKind = 2
            (sections[1], sections[2], sections[3]) = graphSections(graph)
            if let q = graph.quantizer { sections[4] = [bytes(of: q.minimum + q.step), graph.codes] }
        }
        if let q = s.quantizer { sections[4] = [bytes(of: q.minimum + q.step)] }
        sections[5] = [fileTable(contents.files)]
        sections[6] = [fileTable(contents.rejects)]
        var meta = ByteWriter()
        for text in [contents.modelPath, contents.modelFingerprint, contents.root] { meta.string(text) }
        sections[7] = [meta.bytes]
        try withRowBytes(s) { rows in
            precondition(rows.count == n * d * (s.quantizer == nil ? 4 : 1), "IndexFile.write: row bytes \(rows.count)")
            sections[8] = [bytes(of: RowBlocks.checksums(of: rows, blockSize: rowBlockSize).map(\.littleEndian))]
            // Offsets: rows first, then the other sections.
            var offsets = [Int](repeating: 0, count: sectionCount), lengths = sections.map { $0.reduce(0) { $0 + $1.withUnsafeBytes(\.count) } }
            lengths[0] = rows.count
            var cursor = headerSize
            for i in 0..<sectionCount {
                cursor = aligned(cursor)
                offsets[i] = cursor
                cursor += lengths[i]
            }
            let fileLength = cursor + 8
            var header = ByteWriter()
            header.raw(magic)
            header.u32(version); header.u32(2); header.u32(UInt32(headerSize)); header.u32(0)
            header.u64(UInt64(n)); header.u32(UInt32(d)); header.u32(storageKind)
            header.u32(s.quantizer == nil && !s.isQuantizedGraph ? 0 : 1); header.u32(UInt32(listCount))
            for i in 0..<sectionCount { header.u64(UInt64(offsets[i])); header.u64(UInt64(lengths[i])) }
            header.u64(UInt64(rowBlockSize)); header.u64(UInt64(fileLength))
            header.raw([UInt8](repeating: 0, count: headerSize - header.bytes.count))
            assert(header.bytes.count == headerSize)
            var metaSum = Checksum64()
            try AtomicFile.write(to: url) { sink in
                var written = 0
                func emit(_ b: UnsafeRawBufferPointer, checksummed: Bool) throws {
                    if checksummed { metaSum.update(b) }
                    try sink(b)
                    written += b.count
                    try interrupt?(written)
                }
                func pad(to offset: Int) throws {
                    if offset > written { try [UInt8](repeating: 0, count: offset - written).withUnsafeBytes { try emit($0, checksummed: true) } }
                }
                try header.bytes.withUnsafeBytes { try emit($0, checksummed: true) }
                for i in 0..<sectionCount {
                    try pad(to: offsets[i])
                    if i == 0 {
                        try emit(rows, checksummed: false)
                    } else {
                        for part in sections[i] { try part.withUnsafeBytes { try emit($0, checksummed: true) } }
                    }
                }
                var trailer = ByteWriter()
                trailer.u64(metaSum.finalize())
                try trailer.bytes.withUnsafeBytes { try emit($0, checksummed: false) }
            }
        }
    }

    /// The row section's bytes, straight from the storage (mapped or owned), no copy.
    static func withRowBytes<R>(_ s: IndexStorage, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch s {
        case .flat(let f):
            if f.quantizer != nil { return try f.codes.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) } }
            return try f.rows.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
        case .ivf(let i):
            if i.quantizer != nil { return try i.listCodes.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) } }
            return try i.listRows.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
        case .graph(let g):
            return try g.rows.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// A graph's sections 1–3: its parameters, upper offsets and layers; its layer-0 lists; its
    /// upper lists.
    static func graphSections(_ g: GraphIndex) -> ([any ContiguousBytes], [any ContiguousBytes], [any ContiguousBytes]) {
        var head = ByteWriter()
        head.u32(UInt32(g.neighbors)); head.u32(UInt32(g.efConstruction))
        head.u32(UInt32(bitPattern: g.entryPoint)); head.u32(UInt32(g.efSearch)); head.u64(g.seed)
        head.raw(bytes(of: g.upperOffset.map(\.littleEndian)))
        head.raw(g.levels)
        return ([head.bytes], [g.links0], [g.upper])
    }

    static func bytes<T: BitwiseCopyable>(of values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func fileTable(_ files: FileTable) -> [UInt8] {
        var w = ByteWriter()
        w.u64(UInt64(files.count))
        for f in files { w.u64(f.size); w.u64(UInt64(bitPattern: f.modified)); w.u64(f.contentHash) }
        var offset: UInt64 = 0
        w.u64(0)
        let utf8 = files.map { Array($0.path.utf8) }  // one decode per entry when mapped
        for p in utf8 { offset += UInt64(p.count); w.u64(offset) }
        for p in utf8 { w.raw(p) }
        for f in files {
            let m = f.member ?? ArchiveMember(archivePathLength: 0, archiveSize: 0, offset: 0)
            w.u64(UInt64(m.archivePathLength)); w.u64(m.archiveSize); w.u64(m.offset)
        }
        return w.bytes
    }
}

/// Appends little-endian integers and strings to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        bytes += utf8
    }
}
