// Where a shard's pixel cache lives and whether it can be used: a cache is used only when it
// was built from the shard as it is now and for the model's side and filter, and its header,
// table and pixels pass their checksums; anything else is decoded again (and said why).
import Foundation
import Vision

public enum ShardCache {
    /// The folder caches go to unless the user names one: beside the shard.
    public static func defaultDirectory(for shard: URL) -> URL {
        shard.deletingLastPathComponent().appendingPathComponent("retrieve-cache")
    }

    /// The cache file of `shard` for `preprocessing`, in `directory` (default: `defaultDirectory`).
    public static func url(of shard: URL, in directory: URL?, preprocessing: Preprocessing) -> URL {
        let folder = directory ?? defaultDirectory(for: shard)
        let name = shard.deletingPathExtension().lastPathComponent
        return folder.appendingPathComponent("\(name).\(preprocessing.side)px-\(preprocessing.filter.rawValue).pixels")
    }

    /// What `prepare` did with one shard's cache.
    public enum Outcome: Sendable, Equatable {
        case current
        /// Built; `reason` says why the cache there could not be used ("not built yet", "the shard changed…").
        case built(reason: String)
    }

    /// Checks the cache of `shard` (every pixel included) and builds it again when it cannot be
    /// used. `progress(samples)` reports decoding. Throws only when the shard cannot be opened or
    /// the cache cannot be written.
    public static func prepare(shard: URL, directory: URL?, preprocessing: Preprocessing,
                               progress: ((Int) -> Void)? = nil) throws -> Outcome {
        let url = url(of: shard, in: directory, preprocessing: preprocessing)
        do {
            _ = try PixelCacheFile(url: url, shard: shard, preprocessing: preprocessing, verifyPixels: true)
            return .current
        } catch let stale as StaleCache {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try PixelCacheWriter.build(shard: shard, into: url, preprocessing: preprocessing, progress: progress)
            return .built(reason: stale.reason)
        }
    }

    /// Opens the prepared caches of `shards` (header and table checked; `prepare` checked the pixels).
    public static func open(_ shards: [URL], directory: URL?, preprocessing: Preprocessing) throws -> PixelCacheSet {
        PixelCacheSet(files: try shards.map { shard in
            try PixelCacheFile(url: url(of: shard, in: directory, preprocessing: preprocessing), shard: shard,
                               preprocessing: preprocessing, verifyPixels: false)
        })
    }
}
