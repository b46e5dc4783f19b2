// Reading WebDataset shards: samples grouped by key with their captions from .txt or .json, the
// header forms the reader accepts, and what it does with bad samples and damaged or cut tars
// (one warning naming the shard and member, the rest kept).
import Foundation
import Testing
@testable import Datasets

struct ShardReaderTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func samples(_ tar: TarBuilder) throws -> (samples: [ShardSample], warnings: [ShardWarning]) {
        let url = try folder().appendingPathComponent("000007.tar")
        try tar.write(to: url)
        var samples: [ShardSample] = []
        let warnings = try ShardReader.forEachSample(in: url) { samples.append($0) }
        return (samples, warnings)
    }

    @Test func groupsMembersByKeyWithTextAndJSONCaptions() throws {
        var tar = TarBuilder()
        tar.add("a/0001.png", try TarBuilder.png((255, 0, 0)))
        tar.add("a/0001.txt", Array("a red square\n\nred again\n".utf8))
        tar.add("a/0002.jpg", Array(try TarBuilder.png((0, 0, 255))))
        tar.add("a/0002.json", Array(#"{"caption": "a blue square", "width": 16}"#.utf8))
        tar.add("a/0003.png", try TarBuilder.png((0, 255, 0)))
        tar.add("a/0003.json", Array(#"{"text": ["green", "a green one"]}"#.utf8))
        tar.finish()
        let (samples, warnings) = try Self.samples(tar)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(samples.map(\.key) == ["a/0001", "a/0002", "a/0003"])
        #expect(samples.map(\.captions) == [["a red square", "red again"], ["a blue square"], ["green", "a green one"]])
        #expect(samples[1].pictureName == "a/0002.jpg")
    }

    @Test func readsLongNamesPaxPathsAndTheUstarPrefix() throws {
        let long = String(repeating: "d", count: 120) + "/0001"
        var tar = TarBuilder()
        tar.addLongName(long + ".png", try TarBuilder.png((1, 2, 3)))
        tar.addLongName(long + ".txt", Array("long".utf8))
        tar.addPax("pax/0002.png", try TarBuilder.png((4, 5, 6)))
        tar.addPax("pax/0002.txt", Array("pax".utf8))
        tar.add("0003.png", try TarBuilder.png((7, 8, 9)), prefix: "pre")
        tar.add("0003.txt", Array("prefixed".utf8), prefix: "pre")
        tar.finish()
        let (samples, warnings) = try Self.samples(tar)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(samples.map(\.key) == [long, "pax/0002", "pre/0003"])
        #expect(samples.map(\.captions) == [["long"], ["pax"], ["prefixed"]])
    }

    @Test func skipsSamplesWithoutCaptionOrPictureNamingShardAndMember() throws {
        var tar = TarBuilder()
        tar.add("0001.png", try TarBuilder.png((255, 0, 0)))  // no caption
        tar.add("0002.txt", Array("no picture".utf8))
        tar.add("0003.png", try TarBuilder.png((0, 0, 255)))
        tar.add("0003.json", Array(#"{"url": "x"}"#.utf8))  // no caption field
        tar.add("0004.png", try TarBuilder.png((0, 255, 0)))
        tar.add("0004.txt", Array("kept".utf8))
        tar.finish()
        let (samples, warnings) = try Self.samples(tar)
        #expect(samples.map(\.key) == ["0004"])
        #expect(warnings.map(\.description) == [
            "000007.tar: 0001.png: no caption (.txt, or .json with a \"caption\" or \"text\" field); sample skipped",
            "000007.tar: 0002: no .jpg, .jpeg or .png picture; sample skipped",
            "000007.tar: 0003.png: no caption (.txt, or .json with a \"caption\" or \"text\" field); sample skipped",
        ])
    }

    @Test func aDamagedHeaderEndsTheShardKeepingTheSamplesBefore() throws {
        var tar = TarBuilder()
        tar.add("0001.png", try TarBuilder.png((255, 0, 0)))
        tar.add("0001.txt", Array("first".utf8))
        let damaged = tar.bytes.count
        tar.add("0002.png", try TarBuilder.png((0, 0, 255)))
        tar.add("0002.txt", Array("second".utf8))
        tar.finish()
        tar.bytes[damaged + 10] ^= 0x01  // a flipped bit in the third header's name
        let (samples, warnings) = try Self.samples(tar)
        #expect(samples.map(\.key) == ["0001"])
        #expect(warnings.count == 1 && warnings[0].description.hasPrefix("000007.tar: damaged tar header at byte \(damaged)"), "\(warnings)")
    }

    @Test func aTruncatedShardKeepsItsWholeSamplesAndSaysWhere() throws {
        var tar = TarBuilder()
        tar.add("0001.png", try TarBuilder.png((255, 0, 0)))
        tar.add("0001.txt", Array("first".utf8))
        tar.add("0002.png", try TarBuilder.png((0, 0, 255)))
        tar.finish()
        tar.bytes.removeLast(1024 + 300)  // into the second picture's bytes
        let (samples, warnings) = try Self.samples(tar)
        #expect(samples.map(\.key) == ["0001"])
        #expect(warnings.count == 1 && warnings[0].description.contains("truncated inside 0002.png"), "\(warnings)")
    }

    @Test func expandsBraceRangesKeepingTheWidthAndReportsMissingShards() throws {
        let folder = try Self.folder()
        for name in ["000000.tar", "000001.tar", "000003.tar"] { try Data().write(to: folder.appendingPathComponent(name)) }
        let (shards, missing) = ShardList.expand(folder.path + "/{000000..000003}.tar")
        #expect(shards.map(\.lastPathComponent) == ["000000.tar", "000001.tar", "000003.tar"])
        #expect(missing == [folder.path + "/000002.tar"])
        #expect(ShardList.isShards(folder.path) && ShardList.expand(folder.path).shards.count == 3)
        #expect(!ShardList.isShards(folder.path + "/captions.tsv"))
    }
}
