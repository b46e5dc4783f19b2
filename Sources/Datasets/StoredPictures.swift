// Where an image store's pictures live: decoded in memory (captions files, tests), or in the
// pixel caches of tar shards, read from disk one picture at a time when a batch asks for it, so
// the resident memory of a run does not grow with the data.
import Foundation
import Vision

/// The input-sized pictures of an `ImageStore`, by index.
public struct StoredPictures: RandomAccessCollection, Sendable {
    enum Source: Sendable {
        case memory([RGBImage])
        case cached(CachedRows)
    }

    let source: Source

    init(_ source: Source) { self.source = source }

    public init(_ images: [RGBImage]) { source = .memory(images) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch source {
        case .memory(let images): return images.count
        case .cached(let rows): return rows.count
        }
    }

    /// The picture at `i`; a cached one is read from its file (one `pread`).
    public subscript(i: Int) -> RGBImage {
        switch source {
        case .memory(let images): return images[i]
        case .cached(let rows):
            let (cache, row) = rows.place(i)
            return cache.image(at: row)
        }
    }

    /// The fingerprint of picture `i` (`DataCheck.fingerprint`), from the cache's table when cached.
    public func fingerprint(at i: Int) -> UInt64 {
        switch source {
        case .memory(let images): return DataCheck.fingerprint(images[i])
        case .cached(let rows):
            let (cache, row) = rows.place(i)
            return cache.fingerprints[row]
        }
    }

    /// The pictures at `indices`, in that order, kept where they are.
    public func subset(_ indices: [Int]) -> StoredPictures {
        switch source {
        case .memory(let images): return StoredPictures(indices.map { images[$0] })
        case .cached(let rows): return StoredPictures(.cached(rows.subset(indices)))
        }
    }

    /// These pictures followed by `other`'s; cached ones stay cached when both come from one set.
    public func appending(_ other: StoredPictures) -> StoredPictures {
        if case .cached(let a) = source, case .cached(let b) = other.source, let both = a.appending(b) {
            return StoredPictures(.cached(both))
        }
        return StoredPictures(Array(self) + Array(other))
    }

    public static func + (lhs: StoredPictures, rhs: StoredPictures) -> StoredPictures { lhs.appending(rhs) }
}

/// The open pixel caches of one load of shards, shared by its train, validation and test stores.
public final class PixelCacheSet: Sendable {
    /// In the order the shards were listed.
    public let files: [PixelCacheFile]
    init(files: [PixelCacheFile]) { self.files = files }
}
