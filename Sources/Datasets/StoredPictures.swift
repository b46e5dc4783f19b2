// Where an image store's pictures live: decoded in memory (captions files, tests), or in the
// pixel caches of tar shards, read from disk one picture at a time when a batch asks for it, so
// the resident memory of a run does not grow with the data.
import Foundation
import Vision

/// The input-sized pictures of an `ImageStore`, by index.
public struct StoredPictures: RandomAccessCollection, Sendable {
    enum Source: Sendable {
        case memory([RGBImage])
        /// Picture i is row `rows[i]` of cache `caches[file[i]]`.
        case cached(PixelCacheSet, file: [Int32], rows: [Int32])
    }

    let source: Source

    init(_ source: Source) { self.source = source }

    public init(_ images: [RGBImage]) { source = .memory(images) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch source {
        case .memory(let images): return images.count
        case .cached(_, let file, _): return file.count
        }
    }

    /// The picture at `i`; a cached one is read from its file (one `pread`).
    public subscript(i: Int) -> RGBImage {
        switch source {
        case .memory(let images): return images[i]
        case .cached(let set, let file, let rows): return set.files[Int(file[i])].image(at: Int(rows[i]))
        }
    }

    /// The fingerprint of picture `i` (`DataCheck.fingerprint`), from the cache's table when cached.
    public func fingerprint(at i: Int) -> UInt64 {
        switch source {
        case .memory(let images): return DataCheck.fingerprint(images[i])
        case .cached(let set, let file, let rows): return set.files[Int(file[i])].fingerprints[Int(rows[i])]
        }
    }

    /// The pictures at `indices`, in that order, kept where they are.
    public func subset(_ indices: [Int]) -> StoredPictures {
        switch source {
        case .memory(let images): return StoredPictures(indices.map { images[$0] })
        case .cached(let set, let file, let rows):
            return StoredPictures(.cached(set, file: indices.map { file[$0] }, rows: indices.map { rows[$0] }))
        }
    }

    /// These pictures followed by `other`'s; cached ones stay cached when both come from one set.
    public func appending(_ other: StoredPictures) -> StoredPictures {
        if case .cached(let a, let fileA, let rowsA) = source, case .cached(let b, let fileB, let rowsB) = other.source, a === b {
            return StoredPictures(.cached(a, file: fileA + fileB, rows: rowsA + rowsB))
        }
        return StoredPictures(Array(self) + Array(other))
    }

    public static func + (lhs: StoredPictures, rhs: StoredPictures) -> StoredPictures { lhs.appending(rhs) }
}

/// The open pixel caches of one load of shards, shared by its train, validation and test stores.
public final class PixelCacheSet: Sendable {
    public let files: [PixelCacheFile]
    init(files: [PixelCacheFile]) { self.files = files }
}
