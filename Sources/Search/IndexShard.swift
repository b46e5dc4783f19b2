// Which shard of a sharded index a picture belongs to: FNV-1a of its relative path modulo the
// shard count. The hash depends on nothing but the path, so adding or changing pictures rewrites
// only the shards they fall in, and every process (rank, job-array task) agrees without talking.
import Foundation

/// One shard of `count`: shard `index` holds the files whose path hashes to it.
public struct IndexShard: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(_ index: Int, of count: Int) {
        precondition(count >= 1 && (0..<count).contains(index), "IndexShard: shard \(index) of \(count)")
        self.index = index
        self.count = count
    }

    /// "R/N" as the CLI takes it (`--shard 2/4`), or nil when it is not of that form.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let r = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(r) else { return nil }
        self.init(r, of: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// True when the file at `path` (relative to the indexed folder) belongs to this shard.
    public func holds(_ path: String) -> Bool {
        Self.shard(of: path, count: count) == index
    }

    /// FNV-1a (64-bit) of the path's UTF-8 bytes, modulo `count`.
    public static func shard(of path: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(count))
    }

    /// The shard's file name beside the manifest: index-R-of-N.rtrv.
    public var fileName: String { "index-\(index)-of-\(count).rtrv" }

    /// The shards of `count` that rank `rank` of `ranks` builds or searches: r, r + ranks, …
    public static func shards(count: Int, rank: Int, ranks: Int) -> [IndexShard] {
        stride(from: rank, to: count, by: max(1, ranks)).map { IndexShard($0, of: count) }
    }
}
