// Training pictures decoded once and kept at the model's input size (in memory, or for tar
// shards in pixel cache files: StoredPictures), so epochs after the first never decode again.
// Decoding runs on every core; a picture that cannot be read, or that is damaged (the codec guessed part of it), is reported with its reason and left
// out, and the rest goes on; damaged pictures are kept, still reported, when asked.
import Foundation
import Vision
import Neural

/// Decoded, square, input-sized pictures, aligned with the captioned images they came from.
public struct ImageStore: Sendable {
    public let side: Int
    public let images: StoredPictures
    /// The captioned images that decoded, in the same order as `images`.
    public let items: CaptionedItems
    /// Pictures left out, with the one-line reason.
    public let failures: [(path: String, reason: String)]
    /// Damaged pictures kept because `keepDamaged` was set, with the codec's warning.
    public private(set) var damaged: [(path: String, reason: String)] = []

    /// Decodes every item's picture to its input-sized square (`preprocessing.square`).
    /// `progress(done, total)` is called from worker threads as pictures finish. Damaged
    /// pictures are failures unless `keepDamaged`.
    public static func load(_ items: [CaptionedImage], preprocessing: Preprocessing, threads: Int = Threads.count,
                            keepDamaged: Bool = false, progress: (@Sendable (Int, Int) -> Void)? = nil) -> ImageStore {
        var results = [Result<DecodedImage, any Error>?](repeating: nil, count: items.count)
        let done = Counter()
        let chunk = max(1, items.count / max(1, threads * 8))
        results.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: (items.count + chunk - 1) / chunk) { c in
                for i in (c * chunk)..<min(items.count, (c + 1) * chunk) {
                    base[i] = Result {
                        try preprocessing.square(contentsOf: items[i].url, keepDamaged: keepDamaged)
                    }
                }
                progress?(done.add(min(items.count, (c + 1) * chunk) - c * chunk), items.count)
            }
        }
        var images: [RGBImage] = [], kept: [CaptionedImage] = [], failures: [(String, String)] = []
        var damaged: [(String, String)] = []
        for (item, result) in zip(items, results) {
            switch result! {
            case .success(let decoded):
                images.append(decoded.image)
                kept.append(item)
                if let damage = decoded.damage { damaged.append((item.path, damage.problem)) }
            case .failure(let error):
                failures.append((item.path, (error as? ImageError)?.problem ?? "\(error)"))
            }
        }
        var store = ImageStore(side: preprocessing.side, images: images, items: kept, failures: failures)
        store.damaged = damaged
        return store
    }

    /// Stores already decoded pictures (tests, generated data).
    public init(side: Int, images: [RGBImage], items: [CaptionedImage], failures: [(path: String, reason: String)] = []) {
        self.init(side: side, pictures: StoredPictures(images), items: CaptionedItems(items), failures: failures)
    }

    /// Stores pictures and items kept wherever they are kept (pixel caches of shards).
    public init(side: Int, pictures: StoredPictures, items: CaptionedItems, failures: [(path: String, reason: String)] = []) {
        precondition(pictures.count == items.count, "\(pictures.count) pictures for \(items.count) items")
        self.side = side
        self.images = pictures
        self.items = items
        self.failures = failures
    }

    /// Stores another store's pictures under other items (tests relabel stores).
    public init(side: Int, images: StoredPictures, items: [CaptionedImage], failures: [(path: String, reason: String)] = []) {
        self.init(side: side, pictures: images, items: CaptionedItems(items), failures: failures)
    }

    /// The pictures at `indices`, in that order, kept where they are (a probe of the training set).
    public func subset(_ indices: [Int]) -> ImageStore {
        ImageStore(side: side, pictures: images.subset(indices), items: items.subset(indices))
    }

    /// These pictures followed by `other`'s (the whole of a split data set).
    public func appending(_ other: ImageStore) -> ImageStore {
        precondition(side == other.side, "pictures of \(side) and \(other.side) px")
        return ImageStore(side: side, pictures: images.appending(other.images), items: items.appending(other.items),
                          failures: failures + other.failures)
    }

    public var count: Int { images.count }
}
