// The files of an index as a random-access collection that is either an array (being built) or
// a view of the mapped file table (opened): a 1M-file index opens without making 1M strings,
// and a query decodes only the paths of its results.
import Foundation

/// Row i's file, i in 0..<count; `IndexedFile`s decoded on access when mapped.
public struct FileTable: RandomAccessCollection, Sendable, Equatable {
    private enum Backing: @unchecked Sendable {
        case array([IndexedFile])
        /// Stamps (count × 24 bytes), path ends ((count+1) × UInt64), path bytes, member
        /// triples (count × 24 bytes; nil before version 3); `owner` keeps them mapped.
        case mapped(stamps: UnsafeRawPointer, ends: UnsafeRawPointer, paths: UnsafeRawPointer, members: UnsafeRawPointer?,
                    count: Int, owner: AnyObject)
    }

    private let backing: Backing

    public init(_ files: [IndexedFile] = []) {
        backing = .array(files)
    }

    init(stamps: UnsafeRawPointer, ends: UnsafeRawPointer, paths: UnsafeRawPointer, members: UnsafeRawPointer?, count: Int,
         owner: AnyObject) {
        backing = .mapped(stamps: stamps, ends: ends, paths: paths, members: members, count: count, owner: owner)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch backing {
        case .array(let a): return a.count
        case .mapped(_, _, _, _, let count, _): return count
        }
    }

    public subscript(i: Int) -> IndexedFile {
        switch backing {
        case .array(let a):
            return a[i]
        case .mapped(let stamps, let ends, let paths, let members, let count, _):
            precondition(i >= 0 && i < count, "FileTable: index \(i) outside 0..<\(count)")
            let s = stamps + i * 24
            let lo = Int(ends.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian)
            let hi = Int(ends.loadUnaligned(fromByteOffset: (i + 1) * 8, as: UInt64.self).littleEndian)
            let path = String(decoding: UnsafeRawBufferPointer(start: paths + lo, count: hi - lo), as: UTF8.self)
            return IndexedFile(path: path, size: s.loadUnaligned(as: UInt64.self).littleEndian,
                               modified: Int64(bitPattern: s.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian),
                               contentHash: s.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian,
                               member: members.flatMap { Self.member($0 + i * 24) })
        }
    }

    private static func member(_ m: UnsafeRawPointer) -> ArchiveMember? {
        let length = Int(m.loadUnaligned(as: UInt64.self).littleEndian)
        guard length > 0 else { return nil }
        return ArchiveMember(archivePathLength: length, archiveSize: m.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian,
                             offset: m.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
    }

    public static func == (a: FileTable, b: FileTable) -> Bool { a.elementsEqual(b) }
}
