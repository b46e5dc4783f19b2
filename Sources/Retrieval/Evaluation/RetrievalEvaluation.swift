// Evaluates a model on decoded pictures and their captions: embeds everything without
// augmentation and hands the embeddings to RecallEvaluator, and to PairScores for the
// calibration of scores (measured on validation, checked on test).
import Foundation
import Datasets
import Neural

public enum RetrievalEvaluation {
    /// Which captions of each picture take part.
    public enum CaptionChoice: String, Sendable, CaseIterable, Codable {
        /// Every caption (the standard COCO/Flickr protocol).
        case all
        /// The first caption of each picture (the reference script's protocol).
        case first
    }

    /// Text→image and image→text Recall@K over every picture in `store`.
    public static func evaluate(model: DualEncoder, store: ImageStore, captions choice: CaptionChoice = .all) -> RecallReport {
        report(embed(model: model, store: store, captions: choice))
    }

    /// Every picture of `store` and its captions (`choice`) embedded as search embeds them.
    public static func embed(model: DualEncoder, store: ImageStore, captions choice: CaptionChoice = .all) -> PairScores {
        let images = embedPictures(model: model, store: store)
        var texts: [String] = [], owner: [Int] = []
        for (i, item) in store.items.enumerated() {
            for caption in (choice == .all ? item.captions : Array(item.captions.prefix(1))) {
                texts.append(caption)
                owner.append(i)
            }
        }
        let captions = model.embedTexts(texts).embeddings
        return PairScores(images: images, captions: captions, imageOfCaption: owner, texts: texts)
    }

    /// The (N, D) embeddings of the store's pictures, prepared `chunk` at a time: a store read
    /// from pixel caches is never resident as a whole, nor are its float inputs.
    static func embedPictures(model: DualEncoder, store: ImageStore, chunk: Int = 256) -> Tensor {
        let d = model.configuration.embeddingDimension
        var out = [Float]()
        out.reserveCapacity(store.count * d)
        for start in stride(from: 0, to: store.count, by: chunk) {
            let squares = Array(store.images[start..<min(store.count, start + chunk)])
            out += model.embedImages(model.configuration.preprocessing.batch(squares), chunk: chunk).data
        }
        return Tensor(shape: [store.count, d], data: out)
    }

    /// Recall@K of embedded pictures and captions.
    public static func report(_ scores: PairScores) -> RecallReport {
        RecallEvaluator.evaluate(images: scores.images, captions: scores.captions, imageOfCaption: scores.imageOfCaption)
    }
}
