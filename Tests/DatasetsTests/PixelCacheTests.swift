// The pixel cache of a shard: its pictures read back as the one preprocessing path makes them;
// it is used again only while the shard, the side and the filter are what it was built from and
// its checksums hold, else decoded again with the reason; and shards load as split training data.
import Foundation
import Testing
import Vision
@testable import Datasets

struct PixelCacheTests {
    static let colours: [(UInt8, UInt8, UInt8)] = (0..<12).map { (i: Int) -> (UInt8, UInt8, UInt8) in
        let red = UInt8(20 * i), green = UInt8(255 - 20 * i), blue = UInt8(i % 3 * 100)
        return (red, green, blue)
    }

    /// A shard of 12 one-colour pictures (one of them undecodable), captioned by their index.
    static func shard(in folder: URL, name: String = "000000.tar") throws -> URL {
        var tar = TarBuilder()
        for (i, colour) in colours.enumerated() {
            tar.add(String(format: "%04d.png", i), i == 5 ? Array("not a png".utf8) : try TarBuilder.png(colour, side: 20))
            tar.add(String(format: "%04d.txt", i), Array("picture \(i)".utf8))
        }
        tar.finish()
        let url = folder.appendingPathComponent(name)
        try tar.write(to: url)
        return url
    }

    @Test func picturesReadBackAsPreprocessingMakesThem() throws {
        let folder = try ShardReaderTests.folder()
        let shard = try Self.shard(in: folder)
        let preprocessing = Preprocessing(side: 8)
        #expect(try ShardCache.prepare(shard: shard, directory: nil, preprocessing: preprocessing) == .built(reason: "not built yet"))
        let cache = try ShardCache.open([shard], directory: nil, preprocessing: preprocessing).files[0]
        #expect(cache.count == 11)
        let keys = (0..<cache.count).map { cache.sample(at: $0).key }
        #expect(keys.first == "0000" && !keys.contains("0005"))
        #expect(cache.warnings.count == 1 && cache.warnings[0].member == "0005.png"
                && cache.warnings[0].problem.hasPrefix("not a PNG or JPEG image"), "\(cache.warnings)")
        for row in [0, 4, 10] {
            let i = Int(keys[row])!
            let expected = preprocessing.square(RGBImage(width: 20, height: 20, fill: Self.colours[i]))
            #expect(cache.image(at: row) == expected)
            #expect(cache.fingerprints[row] == DataCheck.fingerprint(expected))
            #expect(cache.sample(at: row).captions == ["picture \(i)"])
        }
    }

    @Test func aChangedShardOrDamagedCacheIsDecodedAgainAndAnotherSideGetsItsOwn() throws {
        let folder = try ShardReaderTests.folder()
        let shard = try Self.shard(in: folder)
        let p8 = Preprocessing(side: 8)
        _ = try ShardCache.prepare(shard: shard, directory: nil, preprocessing: p8)
        #expect(try ShardCache.prepare(shard: shard, directory: nil, preprocessing: p8) == .current)

        let cacheURL = ShardCache.url(of: shard, in: nil, preprocessing: p8)
        let handle = try FileHandle(forUpdating: cacheURL)
        try handle.seek(toOffset: 4096 + 100)
        try handle.write(contentsOf: Data([0x5A]))
        try handle.close()
        #expect(try ShardCache.prepare(shard: shard, directory: nil, preprocessing: p8) == .built(reason: "damaged pixels"))
        #expect(try ShardCache.prepare(shard: shard, directory: nil, preprocessing: p8) == .current)

        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: shard.path)
        #expect(try ShardCache.prepare(shard: shard, directory: nil, preprocessing: p8) == .built(reason: "the shard changed since the cache was built"))

        let other = folder.appendingPathComponent("elsewhere")
        #expect(try ShardCache.prepare(shard: shard, directory: other, preprocessing: Preprocessing(side: 4)) == .built(reason: "not built yet"))
        #expect(try ShardCache.prepare(shard: shard, directory: nil, preprocessing: p8) == .current)
        // No temporary file is left behind by any build.
        let names = try FileManager.default.contentsOfDirectory(atPath: cacheURL.deletingLastPathComponent().path)
        #expect(names == [cacheURL.lastPathComponent], "\(names)")
    }

    @Test func shardsLoadAsSplitTrainingDataReadFromTheCaches() throws {
        let folder = try ShardReaderTests.folder()
        let shards = [try Self.shard(in: folder, name: "000000.tar"), try Self.shard(in: folder, name: "000001.tar")]
        let preprocessing = Preprocessing(side: 8)
        for shard in shards { _ = try ShardCache.prepare(shard: shard, directory: nil, preprocessing: preprocessing) }
        let data = try TrainingData.load(shards: shards, cacheDirectory: nil, validationFraction: 0.3, preprocessing: preprocessing)
        #expect(data.train.count + data.validation.count + data.test.count == 22)
        #expect(data.validation.count > 0 && data.train.count > data.validation.count)
        #expect(data.shardWarnings.count == 2)
        let rule = HashSplit(valFraction: 0.3)
        for (i, item) in data.validation.items.enumerated() {
            #expect(rule.split(of: item.path) == .val)
            let index = Int(item.path.split(separator: "/").last!)!
            #expect(item.captions == ["picture \(index)"])
            #expect(data.validation.images[i] == preprocessing.square(RGBImage(width: 20, height: 20, fill: Self.colours[index])))
        }
        let probe = data.train.subset([1, 0])
        #expect(probe.items.map(\.path) == [data.train.items[1].path, data.train.items[0].path])
        #expect(probe.images[0] == data.train.images[1])
    }
}
