// `mpirun -np N retrieve query --index MANIFEST …`: for a collection larger than one machine's
// memory, each rank opens only its shards of the manifest (r, r + N, …), searches them, and
// the ranks exchange their k best per query (paths, exact scores, global ids); rank 0 merges
// them as one process merges its shards (ImageSearch.merge) and prints. Rank 0 embeds the
// queries and sends the rows to the others (`leaderEmbedding`). Plain captions,
// --queries and --image; the query language and --dedup need every shard in one process.
import Cluster
import Foundation
import Neural
import Search

struct DistributedQuery {
    let world: Communicator

    /// One result as it travels between ranks: the score as its bits, so the merge compares
    /// exactly the numbers each rank computed.
    private struct Hit: Codable {
        let path: String
        let score: UInt32
        let row: Int
        let likelihood: Double?
        /// For a tar member, where its bytes are (so rank 0 can draw it in a --grid).
        let member: ArchiveMember?
        let size: UInt64
    }

    /// Opens this rank's shards of the manifest at `indexURL` and its model.
    func open(_ indexURL: URL, model: URL?) throws -> ImageSearch {
        guard ShardManifest.isManifest(indexURL) else {
            throw CommandError("\(indexURL.path): under mpirun, query searches the shards of a sharded index over the ranks; give its manifest (retrieve index DIR --shards N writes DIR/.retrieve/index.json)", status: .usage)
        }
        let count = try ShardManifest.read(from: indexURL).shards.count
        let mine = Set(IndexShard.shards(count: count, rank: world.rank, ranks: world.size).map(\.index))
        return try ImageSearch(indexFile: indexURL, modelFile: model, shards: mine)
    }

    /// Rank 0's `embed()` on every rank: the query is embedded once, so every rank searches
    /// the same bits and a picture query's file need only be readable where rank 0 runs. When
    /// rank 0 fails it throws its error and the others a line that points to it.
    func leaderEmbedding(_ embed: () throws -> Tensor) throws -> Tensor {
        var bytes: [UInt8] = []
        var failure: (any Error)?
        if world.isLeader {
            do {
                let embedded = try embed()
                bytes = withUnsafeBytes(of: Int64(embedded.shape[0]).littleEndian) { Array($0) }
                embedded.withUnsafeBufferPointer { bytes += UnsafeRawBufferPointer($0) }
            } catch {
                failure = error
            }
        }
        world.broadcast(&bytes)
        if let failure { throw failure }
        guard bytes.count >= 8 else { throw CommandError("rank 0 could not embed the query (its error is above)") }
        let rows = Int(bytes[..<8].withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) })
        let count = (bytes.count - 8) / MemoryLayout<Float>.size
        let values = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[8...])) }
            initialized = count
        }
        return Tensor(shape: [rows, values.count / max(1, rows)], data: values)
    }

    /// Every rank's answers for its shards, merged: on every rank, the answers one process
    /// searching every shard gives. `minLikelihood` is applied after the merge.
    func answers(_ local: [ImageSearch.TextAnswer], search: ImageSearch, k: Int, minLikelihood: Double?) throws -> [ImageSearch.TextAnswer] {
        let mine = local.map { $0.results.map { Hit(path: $0.path, score: $0.score.bitPattern, row: $0.row, likelihood: $0.likelihood,
                                          member: $0.member, size: $0.size) } }
        let gathered = try world.allGather(bytes: Array(JSONEncoder().encode(mine))).map {
            try JSONDecoder().decode([[Hit]].self, from: Data($0))
        }
        return try local.enumerated().map { i, answer in
            var answer = answer
            let lists = try gathered.map { rank -> [SearchResult] in
                guard rank.count == local.count else { throw CommandError("a rank answered \(rank.count) queries, not \(local.count)") }
                return rank[i].map { hit in
                    var result = SearchResult(path: hit.path, url: search.root.appendingPathComponent(hit.path),
                                              score: Float(bitPattern: hit.score), row: hit.row, likelihood: hit.likelihood)
                    if let member = hit.member {
                        result.archive = search.root.appendingPathComponent(member.archive(in: hit.path))
                        (result.member, result.size) = (member, hit.size)
                    }
                    return result
                }
            }
            (answer.results, answer.belowCut) = ImageSearch.merge(lists, k: k, minLikelihood: minLikelihood)
            return answer
        }
    }
}
