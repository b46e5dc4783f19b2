// The only way the server reads a picture file: by row id, through the path the index recorded,
// and only while the file is still what was indexed. Its real path must lie inside the indexed
// folder (a symbolic link out of it is refused even if it was indexed) and its bytes must hash
// to the indexed content hash, so no request can make the server read anything else. A tar
// member is read from its shard (inside the folder likewise) at the offset the index recorded.
import Foundation
import Neural
import Search

struct IndexedPictures: Sendable {
    /// The indexed folder with symbolic links resolved, ending in "/".
    let root: String
    let index: ShardedIndex
    /// Largest file read; an indexed picture larger than this is refused rather than read.
    var maxFileBytes = 256 << 20

    init(search: ImageSearch) {
        let resolved = Self.realPath(search.root.path) ?? search.root.standardizedFileURL.path
        root = resolved.hasSuffix("/") ? resolved : resolved + "/"
        index = search.index
    }

    /// The indexed file of row `id`: its record (404 if there is no such row).
    func file(_ id: Int) throws -> IndexedFile {
        guard id >= 0, id < index.count, index.locate(id) != nil else {
            throw APIError(status: .notFound, code: "unknown_id",
                           message: "no picture #\(id) in this index (ids run from 0 to \(index.count - 1))")
        }
        return index.file(id)
    }

    /// The bytes of row `id`'s picture, exactly as indexed; 404 when it is gone, changed or outside the folder.
    func bytes(_ id: Int) throws -> Data {
        let file = try file(id)
        let gone = APIError(status: .notFound, code: "gone", message: "picture #\(id) is no longer as indexed; re-run retrieve index")
        guard let real = Self.realPath(root + file.storedPath), real.hasPrefix(root) else {
            throw APIError(status: .notFound, code: "gone", message: "picture #\(id) is missing or not inside the indexed folder")
        }
        let read: Data?
        if let member = file.member {  // a tar member: one read at its recorded offset
            read = IndexedFile.readMember(archive: real, member: member, size: file.size, maxBytes: maxFileBytes)
        } else {
            var info = stat()
            let whole = stat(real, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
                && UInt64(info.st_size) == file.size && Int(info.st_size) <= maxFileBytes
            read = whole ? FileManager.default.contents(atPath: real) : nil
        }
        guard let data = read else { throw gone }
        var sum = Checksum64()
        data.withUnsafeBytes { sum.update($0) }
        guard sum.finalize() == file.contentHash else { throw gone }
        return data
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
