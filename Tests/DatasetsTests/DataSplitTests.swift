// Splitting: the hash split is stable, independent of order, near its fractions, and equal to
// the reference builder's split.tsv; split files are read as the reference writes them.
import Foundation
import Testing
@testable import Datasets

struct DataSplitTests {
    @Test func sha256MatchesKnownVectors() {
        func hex(_ s: String) -> String { SHA256.digest(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(String(repeating: "a", count: 1000)).hasPrefix("41edece42d63e8d9bf515a9ba6932e1c"))
    }

    @Test func agreesWithTheReferenceSplitFile() throws {
        // 60 lines of split.tsv as build_icons.py wrote it (SHA-256 bucket, 80/10/10).
        let reference = try SplitFile.read(from: Fixtures.url("reference_split.tsv"))
        #expect(reference.assignments.count == 60)
        let rule = HashSplit(valFraction: 0.1, testFraction: 0.1)
        for (path, split) in reference.assignments {
            #expect(rule.split(of: path) == split, "\(path)")
        }
        #expect(Set(reference.assignments.values) == Set(DataSplit.allCases))
        // Values computed with the reference's split_of in Python.
        #expect(rule.split(of: "images/sub/green.png") == .val)
        #expect(rule.split(of: "img6.png") == .val && rule.split(of: "img11.png") == .train)
    }

    @Test func fractionsHoldRoughlyOnManyNames() {
        let names = (0..<10_000).map { "photos/\($0 % 37)/IMG_\($0).jpg" }
        let rule = HashSplit(valFraction: 0.1, testFraction: 0.05)
        var counts: [DataSplit: Int] = [:]
        for n in names { counts[rule.split(of: n), default: 0] += 1 }
        #expect(abs(counts[.val, default: 0] - 1000) < 120, "\(counts)")
        #expect(abs(counts[.test, default: 0] - 500) < 90, "\(counts)")
        #expect(abs(counts[.train, default: 0] - 8500) < 150, "\(counts)")
        // Positions are spread over [0, 1), not piled in a few buckets.
        let mean = names.map(HashSplit.position(of:)).reduce(0, +) / Double(names.count)
        #expect(abs(mean - 0.5) < 0.02)
    }

    @Test func defaultIsTenPercentValidationNoTest() {
        let names = (0..<2000).map { "n\($0).png" }
        let splits = names.map(HashSplit().split(of:))
        #expect(!splits.contains(.test))
        #expect(abs(splits.filter { $0 == .val }.count - 200) < 60)
    }

    @Test func stableAndIndependentOfOrder() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("flickr/Flickr8k.token.txt"))
        var shuffled = d
        shuffled.images.reverse()
        let rule = HashSplit(valFraction: 0.3, testFraction: 0.3)
        let a = d.split(rule), b = shuffled.split(rule)
        for part in DataSplit.allCases {
            #expect(Set(a[part].map(\.path)) == Set(b[part].map(\.path)))
        }
        #expect(a.train.count + a.val.count + a.test.count == d.images.count && a.unassigned.isEmpty)
        // Growing the data set does not move existing images.
        var grown = d
        grown.images += (0..<50).map { CaptionedImage(path: "new/\($0).jpg", url: URL(fileURLWithPath: "/x/\($0).jpg"), captions: ["x"]) }
        let c = grown.split(rule)
        for part in DataSplit.allCases {
            #expect(Set(c[part].map(\.path)).isSuperset(of: a[part].map(\.path)))
        }
    }

    @Test func splitFileAsTheReferenceWritesIt() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("tsv/captions.tsv"))
        let file = try SplitFile.read(from: Fixtures.url("tsv/split.tsv"))
        #expect(file.warnings.isEmpty)
        let s = d.split(using: file)
        #expect(s.train.map(\.path) == ["images/red.png"])
        #expect(s.val.map(\.path) == ["images/blue.png"])
        #expect(s.test.map(\.path) == ["images/sub/green.png"])
        #expect(s.train[0].captions.count == 2)
    }

    @Test func splitFileHeaderSpellingsAndUnknownLabels() throws {
        let file = try SplitFile.read(from: Fixtures.url("split_variants.tsv"))
        #expect(file.assignments == ["images/red.png": .train, "images/blue.png": .val, "images/sub/green.png": .test])
        #expect(file.warnings.count == 1 && file.warnings[0].line == 5)
        #expect(file.warnings[0].message.contains("holdout"))
        let d = try CaptionDataset.read(from: Fixtures.url("tsv/captions.tsv"))
        var partial = file
        partial.assignments["images/blue.png"] = nil
        #expect(d.split(using: partial).unassigned.map(\.path) == ["images/blue.png"])
    }

    @Test func splitFileRoundTrip() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("flickr/Flickr8k.token.txt"))
        let splits = d.split(HashSplit(valFraction: 0.4, testFraction: 0.3))
        let url = try Fixtures.temporary("split.tsv", "")
        try SplitFile.write(splits, to: url)
        let back = try SplitFile.read(from: url)
        for image in d.images { #expect(back.assignments[image.path] == HashSplit(valFraction: 0.4, testFraction: 0.3).split(of: image.path)) }
    }
}
