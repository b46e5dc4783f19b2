// What `retrieve index` reads: a folder (every file under it; `.tar` files among them are
// WebDataset shards whose picture members are indexed), or a list of tar shards (one `.tar`, or
// a brace range as `ShardList` expands it) under the folder that holds them. Paths in the index
// are relative to `root` either way; a member's is "SHARD.tar/KEY.ext".
import Datasets
import Foundation

public struct IndexSource: Sendable {
    /// The folder the index's paths are relative to.
    public var root: URL
    /// nil: every file under `root`; else only these shards (paths relative to `root`).
    public var archives: [String]?

    public init(folder: URL) {
        root = folder.standardizedFileURL
        archives = nil
    }

    public init(root: URL, archives: [String]) {
        self.root = root.standardizedFileURL
        self.archives = archives
    }

    /// Whether `argument` names shards rather than a folder: a `.tar` file or a brace range.
    public static func namesShards(_ argument: String) -> Bool {
        argument.hasSuffix(".tar") || ShardList.braceRange(in: argument) != nil
    }

    /// The shards `argument` names (a `.tar`, or a brace range), under the folder that holds
    /// them all, and the named shards that do not exist. Throws `SearchError.noShards` when
    /// none does.
    public static func shards(_ argument: String) throws -> (source: IndexSource, missing: [String]) {
        let (urls, missing) = ShardList.expand(argument)
        guard !urls.isEmpty else { throw SearchError.noShards(argument) }
        let folders = urls.map { $0.standardizedFileURL.deletingLastPathComponent().pathComponents }
        var common = folders[0]
        for f in folders.dropFirst() {
            common = Array(zip(common, f).prefix { $0 == $1 }.map(\.0))
        }
        let root = URL(fileURLWithPath: NSString.path(withComponents: common), isDirectory: true).standardizedFileURL
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        let relative = urls.map { String($0.standardizedFileURL.path.dropFirst(prefix.count)) }
        return (IndexSource(root: root, archives: relative), missing)
    }

    /// Whether a scanned file is a tar shard, by its name.
    static func isArchive(_ path: String) -> Bool { path.hasSuffix(".tar") }

    /// The files to index, sorted by path: the folder's, or the shards' stamps.
    func scan() throws -> [ScannedFile] {
        guard let archives else { return try FolderScanner.scan(root) }
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return archives.compactMap { FolderScanner.stamp(base + $0, as: $0) }.sorted { $0.path < $1.path }
    }
}
