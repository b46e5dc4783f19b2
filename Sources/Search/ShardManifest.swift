// The manifest of a sharded index (.retrieve/index.json): the shard files beside it, each one's
// rows, length and trailer checksum, and the model that made every row; a checksum of its own.
// It is written after every shard is whole (temporary file, rename), so a manifest never names a
// shard that is not there; opening checks it before any shard is read, and the shards against it.
import Foundation
import Neural

/// What a sharded index consists of.
public struct ShardManifest: Codable, Sendable, Equatable {
    /// One shard file, as it was when the manifest was written.
    public struct Shard: Codable, Sendable, Equatable {
        /// File name, in the manifest's folder.
        public var file: String
        public var rows: Int
        public var bytes: Int
        /// The shard's last 8 bytes (its Checksum64 over everything but the rows, whose CRCs it
        /// covers), in hex: any rewrite or damage of the shard changes it.
        public var checksum: String
    }

    public static let fileName = IndexLocation.manifestName
    static let formatName = "retrieve-sharded-index"
    public static let version = 1

    public var format = ShardManifest.formatName
    public var version = ShardManifest.version
    public var modelPath: String
    public var modelFingerprint: String
    public var shards: [Shard]
    /// Checksum64 of every other field (`canonical`), in hex.
    public var checksum = ""

    public var rows: Int { shards.reduce(0) { $0 + $1.rows } }

    /// The fields the checksum covers, in a fixed order.
    var canonical: String {
        var sum = Checksum64()
        sum.update(format); sum.update("\(version)"); sum.update(modelPath); sum.update(modelFingerprint)
        for s in shards { sum.update(s.file); sum.update("\(s.rows)"); sum.update("\(s.bytes)"); sum.update(s.checksum) }
        return sum.hex
    }

    /// The default manifest of a folder: DIR/.retrieve/index.json.
    public static func defaultFile(forFolder folder: URL) -> URL {
        folder.standardizedFileURL.appendingPathComponent(IndexLocation.folderName).appendingPathComponent(fileName)
    }

    /// True when `url` names a manifest rather than an index file (by its .json extension).
    public static func isManifest(_ url: URL) -> Bool { url.pathExtension.lowercased() == "json" }

    /// The shard files of `count` beside `manifest`.
    public static func shardFiles(count: Int, beside manifest: URL) -> [URL] {
        let folder = manifest.standardizedFileURL.deletingLastPathComponent()
        return (0..<count).map { folder.appendingPathComponent(IndexShard($0, of: count).fileName) }
    }

    /// Describes the shard files of `count` beside `url` (each checked in its header and
    /// tables, not its rows: they were checked when written) and writes the manifest atomically.
    /// A missing shard, or shards of different models, is an error naming the file.
    @discardableResult
    public static func write(count: Int, to url: URL) throws -> ShardManifest {
        var shards: [Shard] = [], model: (path: String, fingerprint: String)?
        for file in shardFiles(count: count, beside: url) {
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw IndexFileError(path: file.path, problem: "shard missing, so \(url.lastPathComponent) was not written",
                                     fix: "build it: retrieve index DIR --shard \(shardNumber(file) ?? "R/N")")
            }
            let contents = try IndexFile.read(from: file, checkingRows: false)
            if let model, model.fingerprint != contents.modelFingerprint {
                throw SearchError.shardModelMismatch(shard: file.path, expected: model.fingerprint, found: contents.modelFingerprint)
            }
            model = model ?? (contents.modelPath, contents.modelFingerprint)
            let (bytes, checksum) = try trailer(of: file)
            shards.append(Shard(file: file.lastPathComponent, rows: contents.files.count, bytes: bytes, checksum: checksum))
        }
        var manifest = ShardManifest(modelPath: model?.path ?? "", modelFingerprint: model?.fingerprint ?? "", shards: shards)
        manifest.checksum = manifest.canonical
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(manifest) + Data("\n".utf8), to: url)
        return manifest
    }

    /// Reads and checks the manifest at `url` (its own checksum; the shards are checked by
    /// `ShardedIndex.open`).
    public static func read(from url: URL) throws -> ShardManifest {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw IndexFileError(path: url.path, problem: "cannot read the manifest of a sharded index",
                                 fix: "check the path, or rebuild it: retrieve index DIR --shards N")
        }
        let manifest: ShardManifest
        do { manifest = try JSONDecoder().decode(ShardManifest.self, from: data) } catch {
            throw IndexFileError(path: url.path, problem: "not a sharded-index manifest (unreadable JSON)",
                                 fix: "rebuild it: retrieve index DIR --shards N")
        }
        guard manifest.format == formatName else {
            throw IndexFileError(path: url.path, problem: "not a sharded-index manifest (format \"\(manifest.format)\")",
                                 fix: "rebuild it: retrieve index DIR --shards N")
        }
        guard manifest.version == version else {
            throw IndexFileError(path: url.path, problem: "manifest version \(manifest.version), this retrieve reads \(version)",
                                 fix: "rebuild it: retrieve index DIR --shards N")
        }
        guard manifest.checksum == manifest.canonical, !manifest.shards.isEmpty else {
            throw IndexFileError(path: url.path, problem: "damaged manifest (its checksum does not match)",
                                 fix: "rebuild it: retrieve index DIR --shards \(max(1, manifest.shards.count))")
        }
        return manifest
    }

    /// A shard file's length and its last 8 bytes in hex.
    static func trailer(of file: URL) throws -> (bytes: Int, checksum: String) {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw IndexFileError(path: file.path, problem: "cannot open the shard", fix: "check the path and its permissions")
        }
        defer { try? handle.close() }
        let length = Int(try handle.seekToEnd())
        guard length >= 8 else { throw IndexFileError(path: file.path, problem: "truncated shard (\(length) bytes)") }
        try handle.seek(toOffset: UInt64(length - 8))
        let last = try handle.read(upToCount: 8) ?? Data()
        return (length, last.map { String(format: "%02x", $0) }.joined())
    }

    /// "R/N" of a file named index-R-of-N.rtrv.
    static func shardNumber(_ file: URL) -> String? {
        let parts = file.deletingPathExtension().lastPathComponent.split(separator: "-")
        guard parts.count == 4, parts[0] == "index", parts[2] == "of" else { return nil }
        return "\(parts[1])/\(parts[3])"
    }
}
