// Training batches from an image store: one randomly chosen caption per picture, the keys that
// tell duplicate pictures and captions apart (so they are not used as each other's negatives),
// and the pictures augmented and prepared as the model prepares them, in parallel.
import Foundation
import Neural
import Text
import Vision

/// One batch, or one process's rows of it: pair `rows.lowerBound + i` is (images[i], caption i).
public struct TrainingBatch {
    /// (R, S, S, 3) for the R pairs of `rows`, augmented and normalised.
    public var images: Tensor
    /// The captions of `rows`.
    public var text: EncodedBatch
    /// Of the whole batch (the loss masks duplicates across every rank's rows): equal keys mark
    /// the same picture, or captions that read the same.
    public var imageKeys: [Int]
    public var captionKeys: [Int]
    /// The pairs of the whole batch this one holds; all of them unless a process of a
    /// distributed run asked for its share.
    public var rows: Range<Int>
}

/// Makes batches of one store for one model.
public struct TrainingBatches {
    public let store: ImageStore
    public let augmentation: Augmentation
    public let preprocessing: Preprocessing
    public let vocabulary: Vocabulary
    public let maxTokens: Int
    /// The text tower's character n-grams, if it reads them.
    public let subwords: Subwords?
    public init(store: ImageStore, augmentation: Augmentation, preprocessing: Preprocessing,
                vocabulary: Vocabulary, maxTokens: Int, subwords: Subwords? = nil) {
        precondition(store.side == preprocessing.side,
                     "pictures are \(store.side) px, the model takes \(preprocessing.side)")
        (self.store, self.augmentation, self.preprocessing) = (store, augmentation, preprocessing)
        (self.vocabulary, self.maxTokens, self.subwords) = (vocabulary, maxTokens, subwords)
    }

    /// The pictures at `indices` with one caption each, both drawn from `rng`; `rows` nil
    /// prepares every pair, otherwise only those (a rank's share of a global batch). The draws
    /// are those of the whole batch whatever `rows` is, and each picture's augmentation depends
    /// only on its place in the batch, so the ranks of a job together prepare exactly the batch
    /// one process would.
    public func batch(_ indices: [Int], using rng: inout SeededGenerator, rows: Range<Int>? = nil) -> TrainingBatch {
        let rows = rows ?? 0..<indices.count
        precondition(rows.lowerBound >= 0 && rows.upperBound <= indices.count, "rows \(rows) of a batch of \(indices.count)")
        let seed = rng.next()
        var captions: [String] = [], keys: [Int] = []
        for i in indices {
            let item = store.items[i]
            let caption = item.captions[rng.nextIndex(below: item.captions.count)]
            captions.append(caption)
            keys.append(Int(truncatingIfNeeded: DataCheck.key(of: caption)))
        }
        return TrainingBatch(images: pictures(indices, rows: rows, seed: seed),
                             text: vocabulary.encodeBatch(Array(captions[rows]), maxLength: maxTokens, subwords: subwords),
                             imageKeys: indices, captionKeys: keys, rows: rows)
    }

    /// The pictures at `indices[rows]`, each augmented with its own generator, seeded by its
    /// place in the whole batch (so the result depends neither on the thread count nor on how
    /// the batch is split over ranks), as one prepared batch.
    private func pictures(_ indices: [Int], rows: Range<Int>, seed: UInt64) -> Tensor {
        var pictures = [RGBImage?](repeating: nil, count: rows.count)
        pictures.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            let workers = Threads.count
            DispatchQueue.concurrentPerform(iterations: workers) { part in
                for local in stride(from: part, to: rows.count, by: workers) {
                    let slot = rows.lowerBound + local
                    var generator = SeededGenerator(seed: seed ^ (UInt64(slot) &* 0x9E37_79B9_7F4A_7C15))
                    base[local] = augmentation.apply(to: store.images[indices[slot]], side: preprocessing.side,
                                                    filter: preprocessing.filter, using: &generator)
                }
            }
        }
        return preprocessing.batch(pictures.map { $0! })
    }
}
