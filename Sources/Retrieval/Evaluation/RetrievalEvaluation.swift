// Evaluates a model on decoded pictures and their captions: embeds everything without
// augmentation and hands the embeddings to RecallEvaluator.
import Foundation
import Datasets

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
        let images = model.embedImages(model.configuration.preprocessing.batch(store.images))
        var texts: [String] = [], owner: [Int] = []
        for (i, item) in store.items.enumerated() {
            for caption in (choice == .all ? item.captions : Array(item.captions.prefix(1))) {
                texts.append(caption)
                owner.append(i)
            }
        }
        let captions = model.embedTexts(texts).embeddings
        return RecallEvaluator.evaluate(images: images, captions: captions, imageOfCaption: owner)
    }
}
