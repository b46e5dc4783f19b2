// Training batches from an image store: one randomly chosen caption per picture, the keys that
// tell duplicate pictures and captions apart (so they are not used as each other's negatives),
// and the pictures augmented and prepared as the model prepares them, in parallel.
import Foundation
import Neural
import Text
import Vision

/// One batch: pair i is (images[i], caption i).
public struct TrainingBatch {
    /// (B, S, S, 3), augmented and normalised.
    public var images: Tensor
    public var text: EncodedBatch
    /// Equal keys mark the same picture, or captions that read the same.
    public var imageKeys: [Int]
    public var captionKeys: [Int]
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
    /// captionKeys[item][c]: one id per distinct caption text.
    private let captionKeys: [[Int]]

    public init(store: ImageStore, augmentation: Augmentation, preprocessing: Preprocessing,
                vocabulary: Vocabulary, maxTokens: Int, subwords: Subwords? = nil) {
        precondition(store.side == preprocessing.side,
                     "pictures are \(store.side) px, the model takes \(preprocessing.side)")
        (self.store, self.augmentation, self.preprocessing) = (store, augmentation, preprocessing)
        (self.vocabulary, self.maxTokens, self.subwords) = (vocabulary, maxTokens, subwords)
        var ids: [String: Int] = [:]
        captionKeys = store.items.map { item in
            item.captions.map { caption in
                let key = DataCheck.normalised(caption)
                if let id = ids[key] { return id }
                ids[key] = ids.count
                return ids.count - 1
            }
        }
    }

    /// The pictures at `indices` with one caption each, both drawn from `rng`.
    public func batch(_ indices: [Int], using rng: inout SeededGenerator) -> TrainingBatch {
        let seed = rng.next()
        var captions: [String] = [], keys: [Int] = []
        for i in indices {
            let c = rng.nextIndex(below: store.items[i].captions.count)
            captions.append(store.items[i].captions[c])
            keys.append(captionKeys[i][c])
        }
        return TrainingBatch(images: pictures(indices, seed: seed),
                             text: vocabulary.encodeBatch(captions, maxLength: maxTokens, subwords: subwords),
                             imageKeys: indices, captionKeys: keys)
    }

    /// The pictures at `indices`, each augmented with its own generator (so the result does not
    /// depend on the thread count), as one prepared batch.
    private func pictures(_ indices: [Int], seed: UInt64) -> Tensor {
        var pictures = [RGBImage?](repeating: nil, count: indices.count)
        pictures.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            let workers = Threads.count
            DispatchQueue.concurrentPerform(iterations: workers) { part in
                for slot in stride(from: part, to: indices.count, by: workers) {
                    var generator = SeededGenerator(seed: seed ^ (UInt64(slot) &* 0x9E37_79B9_7F4A_7C15))
                    base[slot] = augmentation.apply(to: store.images[indices[slot]], side: preprocessing.side,
                                                    filter: preprocessing.filter, using: &generator)
                }
            }
        }
        return preprocessing.batch(pictures.map { $0! })
    }
}
