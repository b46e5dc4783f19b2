// `retrieve serve` over a sharded index answers what it answers over one index of the same
// pictures: the same paths, scores and order (ids are global, shard after shard, so they are
// compared through the paths), and a result's id names that picture and serves its thumbnail.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Search
@testable import Serve

struct ShardedServeTests {
    @Test func aShardedIndexServesWhatOneIndexServes() async throws {
        let fixture = ServeFixture.shared
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-serve-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        // One picture per tower call on both sides: the same rows bit for bit (docs/sharding.md).
        var indexer = ImageIndexer(model: fixture.search.model, modelPath: fixture.search.modelFile.path,
                                   fingerprint: fixture.search.index.modelFingerprint)
        indexer.batchSize = 1
        let oneFile = out.appendingPathComponent("one.rtrv"), manifest = out.appendingPathComponent("index.json")
        _ = try indexer.update(folder: fixture.folder, indexFile: oneFile)
        for (s, file) in ShardManifest.shardFiles(count: 3, beside: manifest).enumerated() {
            var shard = indexer
            shard.shard = IndexShard(s, of: 3)
            _ = try shard.update(folder: fixture.folder, indexFile: file)
        }
        try ShardManifest.write(count: 3, to: manifest)
        var configuration = ServeConfiguration()
        configuration.port = 0
        let one = SearchServer(search: try ImageSearch(indexFile: oneFile), configuration: configuration)
        let sharded = SearchServer(search: try ImageSearch(indexFile: manifest), configuration: configuration)
        for q in ["a red circle", "blue square", "a green triangle on a striped background"] {
            let expected = try await one.withLiveClient { client in
                try await client.execute(uri: searchURI(q, "k=30&all=true"), method: .get).results
            }
            let (got, picture) = try await sharded.withLiveClient { client in
                let results = try await client.execute(uri: searchURI(q, "k=30&all=true"), method: .get).results
                let id = results.first?["id"] as? Int ?? -1
                let facts = try await client.execute(uri: "/api/images/\(id)", method: .get)
                let thumbnail = try await client.execute(uri: "/api/images/\(id)/thumbnail", method: .get)
                return (results, facts.status == .ok && thumbnail.status == .ok ? facts.json["path"] as? String ?? "" : "")
            }
            #expect(expected.count == 30)
            #expect(got.map { $0["path"] as? String } == expected.map { $0["path"] as? String }, "\(q)")
            #expect(got.map { ($0["score"] as? NSNumber)?.floatValue } == expected.map { ($0["score"] as? NSNumber)?.floatValue }, "\(q)")
            let first = got.first?["path"] as? String ?? ""
            #expect(!first.isEmpty && picture == first, "\(q): /api/images/ID of \(first) names \(picture)")
        }
    }
}
