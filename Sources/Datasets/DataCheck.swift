// Checks the data before the first step: how many of the training pictures are distinct (by
// their decoded, input-sized pixels, so copies under other names count once), how many captions
// are, and how many validation caption words the vocabulary does not know. A set of one picture
// or one caption, or nearly so, cannot be learned at all, so training would only waste the time.
import Foundation
import Neural
import Text
import Vision

/// What the training data holds, and the problems it shows before any training.
public struct DataCheck: Sendable {
    public struct Finding: Sendable, Equatable {
        /// An error stops training unless the user insists; a warning is printed and training goes on.
        public enum Severity: String, Sendable { case error, warning }
        public let severity: Severity
        public let message: String
    }

    /// Training pictures judged: all of them, or `sampleLimit` when `sampled`.
    public let pictures: Int
    public let distinctPictures: Int
    /// Pictures in the largest group of identical ones.
    public let largestPictureGroup: Int
    public let captions: Int
    public let distinctCaptions: Int
    public let largestCaptionGroup: Int
    /// Share of validation caption words (tokens) that the vocabulary does not know; nil
    /// without validation captions.
    public let unknownWordShare: Double?
    public let findings: [Finding]

    /// One value making up this share of all is "nearly all the same": an error.
    public static let nearlyAllSame = 0.9
    /// Fewer distinct values than this share of all is heavy duplication: a warning.
    public static let heavyDuplication = 0.5
    /// More unknown validation words than this share: a warning.
    public static let manyUnknownWords = 0.3

    /// Training pictures checked at most: a larger set is judged by a fixed random sample of
    /// this many, so the check's memory does not grow with the data (the shares it judges by
    /// are estimated well by a sample that size).
    public static let sampleLimit = 1 << 18

    /// Whether the figures are those of a sample of `sampleLimit` training pictures (and
    /// their captions) rather than of all of them.
    public let sampled: Bool

    public init(train: ImageStore, validation: ImageStore?, vocabulary: Vocabulary) {
        let trainSample = Self.sample(train.count)
        let pictureGroups = Self.groups(trainSample.map(train.images.fingerprint(at:)))
        let captionGroups = Self.groups(trainSample.lazy.flatMap { train.items[$0].captions }.map(Self.key(of:)))
        pictures = trainSample.count
        sampled = trainSample.count < train.count
        distinctPictures = pictureGroups.count
        largestPictureGroup = pictureGroups.max() ?? 0
        captions = captionGroups.reduce(0, +)
        distinctCaptions = captionGroups.count
        largestCaptionGroup = captionGroups.max() ?? 0

        var words = 0, unknown = 0
        for i in Self.sample(validation?.count ?? 0) {
            for caption in validation!.items[i].captions {
                vocabulary.tokenizer.forEachWord(caption) { word in
                    words += 1
                    if vocabulary.id(of: word) == Vocabulary.unknownID { unknown += 1 }
                }
            }
        }
        unknownWordShare = words > 0 ? Double(unknown) / Double(words) : nil

        var findings = Self.duplication(of: "picture", total: pictures, distinct: distinctPictures,
                                        largest: largestPictureGroup)
        findings += Self.duplication(of: "caption", total: captions, distinct: distinctCaptions,
                                     largest: largestCaptionGroup)
        if sampled {
            let scope = " (judged on a random sample of \(pictures) of the \(train.count) training pictures)"
            findings = findings.map { Finding(severity: $0.severity, message: $0.message + scope) }
        }
        if let share = unknownWordShare, share > Self.manyUnknownWords {
            findings.append(Finding(severity: .warning, message: String(
                format: "%.0f%% of the validation captions' words are not in the vocabulary built from the training captions: they are read as one unknown word, so validation recall will understate the model",
                100 * share)))
        }
        self.findings = findings
    }

    public var errors: [Finding] { findings.filter { $0.severity == .error } }

    /// The findings about one kind of item: all one, nearly all one, or heavily duplicated.
    private static func duplication(of noun: String, total: Int, distinct: Int, largest: Int) -> [Finding] {
        guard total >= 2 else { return [] }
        func plural(_ n: Int) -> String { n == 1 ? "\(n) distinct \(noun)" : "\(n) distinct \(noun)s" }
        if distinct == 1 {
            return [Finding(severity: .error, message: "the \(total) training \(noun)s are \(plural(1)): nothing can be learned from them")]
        }
        let share = Double(largest) / Double(total)
        if share >= nearlyAllSame {
            return [Finding(severity: .error, message: String(
                format: "%d of the %d training %@s (%.0f%%) are one and the same %@: nothing can be learned from them",
                largest, total, noun, 100 * share, noun))]
        }
        if Double(distinct) < heavyDuplication * Double(total) {
            return [Finding(severity: .warning, message: String(
                format: "heavy duplication: the %d training %@s are only %@ (the largest group holds %d); duplicates are not used as each other's negatives, but they add nothing to learn from",
                total, noun, plural(distinct), largest))]
        }
        return []
    }

    /// 0..<count, or `sampleLimit` of them drawn with a fixed seed, in order.
    static func sample(_ count: Int) -> [Int] {
        guard count > sampleLimit else { return Array(0..<count) }
        var rng = SeededGenerator(seed: 0x5A4D_504C)
        var picked = Array(0..<count)
        for i in 0..<sampleLimit { picked.swapAt(i, i + rng.nextIndex(below: count - i)) }
        return picked.prefix(sampleLimit).sorted()
    }

    /// The sizes of the groups of equal values.
    private static func groups<T: Hashable, S: Sequence<T>>(_ values: S) -> [Int] {
        var counts: [T: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        return Array(counts.values)
    }

    /// A 64-bit FNV-1a hash of the size and pixels: equal pictures give equal fingerprints.
    public static func fingerprint(_ image: RGBImage) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        for v in [image.width, image.height] { for k in 0..<8 { mix(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        image.pixels.withUnsafeBufferPointer { p in for byte in p { mix(byte) } }
        return hash
    }

    /// A 64-bit FNV-1a hash of the caption `normalised`: captions that read the same share it.
    /// The loss masks equal keys as duplicates; two different captions sharing one is a chance
    /// of about N²/2⁶⁵ in a set of N (under 3e-6 at ten million).
    public static func key(of caption: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in normalised(caption).utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// Lower case, words separated by one space: how duplicates are recognised in the loss too.
    public static func normalised(_ caption: String) -> String {
        caption.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
