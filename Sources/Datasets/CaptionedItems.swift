// The captioned images of an image store, by index: in memory (captions files, tests), or for
// tar shards read from their pixel caches' sample tables when a batch asks for them, so a run
// over shards holds no caption it is not using, whatever the data size.
import Foundation

public struct CaptionedItems: RandomAccessCollection, Sendable {
    enum Source: Sendable {
        case memory([CaptionedImage])
        case cached(CachedRows)
    }

    let source: Source

    init(_ source: Source) { self.source = source }

    public init(_ items: [CaptionedImage]) { source = .memory(items) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch source {
        case .memory(let items): return items.count
        case .cached(let rows): return rows.count
        }
    }

    /// Item `i`; a cached one is read from its cache's table (one `pread`), its path
    /// "SHARD.tar/KEY" and its url the shard's.
    public subscript(i: Int) -> CaptionedImage {
        switch source {
        case .memory(let items): return items[i]
        case .cached(let rows):
            let (cache, row) = rows.place(i)
            let sample = cache.sample(at: row)
            return CaptionedImage(path: cache.shard.lastPathComponent + "/" + sample.key, url: cache.shard, captions: sample.captions)
        }
    }

    /// The items at `indices`, in that order, kept where they are.
    public func subset(_ indices: [Int]) -> CaptionedItems {
        switch source {
        case .memory(let items): return CaptionedItems(indices.map { items[$0] })
        case .cached(let rows): return CaptionedItems(.cached(rows.subset(indices)))
        }
    }

    /// These items followed by `other`'s; cached ones stay cached when both come from one set.
    public func appending(_ other: CaptionedItems) -> CaptionedItems {
        if case .cached(let a) = source, case .cached(let b) = other.source, let both = a.appending(b) {
            return CaptionedItems(.cached(both))
        }
        return CaptionedItems(Array(self) + Array(other))
    }

    public static func + (lhs: CaptionedItems, rhs: CaptionedItems) -> CaptionedItems { lhs.appending(rhs) }
}
