// Which images train, validate and test. The hash split depends only on an image's path as
// written in the captions file, so it is the same on every run and machine, whatever the file
// order, and an image never changes side when others are added. A split file overrides it
// (SplitFile.swift).
import Foundation

/// The three parts of a data set.
public enum DataSplit: String, Sendable, CaseIterable, Codable {
    case train, val, test
}

/// Assigns images to train/val/test from the SHA-256 of their relative path.
///
/// The path's position in [0, 1) puts the first 32 bits of the digest, h, in bucket h mod 100,
/// then spreads it within the bucket by h / 100. With whole-percent fractions the split is
/// therefore exactly the reference builder's `split_of` (build_icons.py/_common.py: bucket < 80
/// train, < 90 val, else test): `HashSplit(valFraction: 0.1, testFraction: 0.1)` reproduces its
/// split.tsv; finer fractions still work.
public struct HashSplit: Sendable, Equatable {
    public var valFraction: Double
    public var testFraction: Double
    public var trainFraction: Double { 1 - valFraction - testFraction }

    public init(valFraction: Double = 0.1, testFraction: Double = 0) {
        precondition(valFraction >= 0 && testFraction >= 0 && valFraction + testFraction <= 1,
                     "split fractions must be ≥ 0 and sum to ≤ 1, got val \(valFraction) test \(testFraction)")
        self.valFraction = valFraction
        self.testFraction = testFraction
    }

    /// The path's place in [0, 1), uniform over paths, from SHA-256 of its UTF-8 bytes.
    public static func position(of path: String) -> Double {
        let d = SHA256.digest(Array(path.utf8))
        let h = UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])
        let within = Double(h / 100) / Double(UInt32.max / 100 + 1)
        return (Double(h % 100) + within) / 100
    }

    public func split(of path: String) -> DataSplit {
        // Compare in percent, where the bucket is an exact integer, so 0.8 vs 0.7999… cannot bite.
        let x = HashSplit.position(of: path) * 100
        if x < 100 * (1 - valFraction - testFraction) { return .train }
        if x < 100 * (1 - testFraction) { return .val }
        return .test
    }
}

/// A data set cut into its parts, each in data-set order.
public struct DatasetSplits: Sendable {
    public var train: [CaptionedImage] = []
    public var val: [CaptionedImage] = []
    public var test: [CaptionedImage] = []
    /// Images the split file does not mention (or gives an unknown label); not used.
    public var unassigned: [CaptionedImage] = []

    public init() {}

    public subscript(split: DataSplit) -> [CaptionedImage] {
        switch split {
        case .train: return train
        case .val: return val
        case .test: return test
        }
    }

    mutating func append(_ image: CaptionedImage, to split: DataSplit?) {
        switch split {
        case .train: train.append(image)
        case .val: val.append(image)
        case .test: test.append(image)
        case nil: unassigned.append(image)
        }
    }
}

extension CaptionDataset {
    /// Splits by path hash (see `HashSplit`).
    public func split(_ rule: HashSplit = HashSplit()) -> DatasetSplits {
        var out = DatasetSplits()
        for image in images { out.append(image, to: rule.split(of: image.path)) }
        return out
    }

    /// Splits as a split file says; images it does not name go to `unassigned`.
    public func split(using file: SplitFile) -> DatasetSplits {
        var out = DatasetSplits()
        for image in images { out.append(image, to: file.assignments[image.path]) }
        return out
    }
}
