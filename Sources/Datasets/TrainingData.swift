// From a captions file to decoded train/validation/test pictures: read the captions (any
// supported format), split them (the user's split file, a split.tsv beside the captions, or a
// hash split), drop missing pictures with one report, and decode the rest once.
import Foundation
import Vision

/// The pictures and captions a run trains and evaluates on, with what was left out.
public struct TrainingData: Sendable {
    public let dataset: CaptionDataset
    public let train: ImageStore
    public let validation: ImageStore
    public let test: ImageStore
    /// Where the split came from, in words ("split.tsv beside the captions", "hash split 10% val").
    public let splitSource: String
    /// Captioned pictures whose file does not exist.
    public let missing: [CaptionedImage]
    /// Pictures that exist but could not be decoded, with the reason.
    public var undecodable: [(path: String, reason: String)] { train.failures + validation.failures + test.failures }
    /// Samples of tar shards left out (no caption, no picture, undecodable, a truncated shard).
    public var shardWarnings: [ShardWarning] = []
    /// Damaged pictures kept (`keepDamaged`), with the codec's warning.
    public var damaged: [(path: String, reason: String)] { train.damaged + validation.damaged + test.damaged }

    /// Reads `captions` and decodes its pictures as `preprocessing` prepares them.
    ///
    /// The split is `splitFile` when given; otherwise a `split.tsv` beside the captions file
    /// (the layout `retrieve synth` and the reference scripts write); otherwise a hash of each
    /// picture's path sends `validationFraction` of them to validation, the same on every machine.
    /// Damaged pictures (the codec guessed part of them) are left out unless `keepDamaged`.
    public static func load(captions: URL, imagesDirectory: URL? = nil, splitFile: URL? = nil,
                            validationFraction: Double = 0.1, preprocessing: Preprocessing, keepDamaged: Bool = false,
                            progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> TrainingData {
        let dataset = try CaptionDataset.read(from: captions, imagesDirectory: imagesDirectory)
        let beside = captions.deletingLastPathComponent().appendingPathComponent("split.tsv")
        let splits: DatasetSplits
        let source: String
        if let splitFile {
            splits = dataset.split(using: try SplitFile.read(from: splitFile))
            source = splitFile.path
        } else if captions.lastPathComponent != "split.tsv", FileManager.default.fileExists(atPath: beside.path) {
            splits = dataset.split(using: try SplitFile.read(from: beside))
            source = "split.tsv beside the captions"
        } else {
            splits = dataset.split(HashSplit(valFraction: validationFraction))
            source = "hash split, \(Int((validationFraction * 100).rounded()))% validation"
        }
        var missing: [CaptionedImage] = []
        func existing(_ items: [CaptionedImage]) -> [CaptionedImage] {
            items.filter { item in
                let exists = FileManager.default.fileExists(atPath: item.url.path)
                if !exists { missing.append(item) }
                return exists
            }
        }
        let parts = [existing(splits.train), existing(splits.val), existing(splits.test)]
        let total = parts.reduce(0) { $0 + $1.count }
        var stores: [ImageStore] = []
        var offset = 0
        for items in parts {
            let before = offset
            stores.append(ImageStore.load(items, preprocessing: preprocessing, keepDamaged: keepDamaged, progress: progress.map { report in
                { @Sendable done, _ in report(before + done, total) }
            }))
            offset += items.count
        }
        return TrainingData(dataset: dataset, train: stores[0], validation: stores[1], test: stores[2],
                            splitSource: source, missing: missing)
    }
}
