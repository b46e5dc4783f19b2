// Every caption's cosine with every picture, a block of captions at a time (GEMM), told apart
// as the caption's own picture or another. Calibration is measured from these scores on the
// validation split and checked against them on the test split.
import Foundation
import Neural

/// The caption–picture scores of one split's embeddings.
public struct PairScores {
    /// L2-normalised rows: pictures (N, D) and captions (M, D).
    public let images: Tensor
    public let captions: Tensor
    /// The row in `images` of each caption's picture.
    public let imageOfCaption: [Int]
    /// Per caption, the other pictures that have the same caption text: neither true nor other
    /// (the same words written for two pictures match both).
    let alsoOwnedBy: [[Int]]

    /// `texts[c]` is caption c's text, so identical captions of other pictures can be set aside.
    public init(images: Tensor, captions: Tensor, imageOfCaption: [Int], texts: [String]) {
        precondition(imageOfCaption.count == captions.shape[0] && texts.count == imageOfCaption.count,
                     "\(captions.shape[0]) captions, \(imageOfCaption.count) owners, \(texts.count) texts")
        self.images = images
        self.captions = captions
        self.imageOfCaption = imageOfCaption
        var owners: [String: Set<Int>] = [:]
        for (c, text) in texts.enumerated() { owners[text, default: []].insert(imageOfCaption[c]) }
        alsoOwnedBy = texts.indices.map { c in owners[texts[c]]!.subtracting([imageOfCaption[c]]).sorted() }
    }

    /// Calls `body(caption, own score, scores of all pictures)` for every caption in order;
    /// the buffer holds N scores and is valid only during the call.
    public func forEachCaption(blockSize: Int = 512, _ body: (Int, Float, UnsafeBufferPointer<Float>) -> Void) {
        forEachCaptionScores(captions: captions, images: images, blockSize: blockSize) { c, row in
            body(c, row[imageOfCaption[c]], row)
        }
    }

    /// Calls `body(score, isMatch)` for every pair but those set aside (`alsoOwnedBy`).
    public func forEachPair(_ body: (Float, Bool) -> Void) {
        forEachCaption { c, _, row in
            let own = imageOfCaption[c], skipped = alsoOwnedBy[c]
            for i in row.indices where !skipped.contains(i) { body(row[i], i == own) }
        }
    }

    /// The calibration these scores imply; nil without a true pair and another.
    public func calibration() -> ScoreCalibration? {
        let bins = ScoreCalibration.binCount
        var matches = [Int](repeating: 0, count: bins), others = [Int](repeating: 0, count: bins)
        forEachPair { score, isMatch in
            guard score.isFinite else { return }
            if isMatch { matches[ScoreCalibration.bin(of: score, bins: bins)] += 1 }
            else { others[ScoreCalibration.bin(of: score, bins: bins)] += 1 }
        }
        return ScoreCalibration(matches: matches, others: others, pictures: images.shape[0], captions: captions.shape[0])
    }
}
