// The rows ImageSearch searches: the shards of a manifest, or one index file as a single shard,
// so there is one code path. Ids are global (shard after shard, in shard order). A search asks
// each shard for its best and merges them exactly: score descending, then relative path, the
// order a single flat index gives (its rows are in path order and ties go to the lower id).
import Foundation
import Neural
import VectorIndex

/// An opened index of one or more shards.
public struct ShardedIndex: Sendable {
    /// One opened shard and where its rows start among the global ids.
    public struct Part: Sendable {
        public let shard: Int
        public let file: URL
        public let contents: IndexContents
        public let firstID: Int
    }

    /// The manifest, or the index file of an unsharded index.
    public let location: URL
    /// The opened shards, in shard order (all of them unless opened for one rank).
    public let parts: [Part]
    /// Rows of every shard, opened or not.
    public let count: Int
    /// Shards in the index (1 for an index file).
    public let shardCount: Int
    public let modelPath: String
    public let modelFingerprint: String
    /// The indexed folder.
    public let root: URL

    /// Opens `url`: a manifest (`ShardManifest.isManifest`) and every shard it lists, or an index
    /// file as one shard. `only`, for a rank of a distributed search, opens just those shards.
    /// Every shard is checked against the manifest and in every checksum; the first problem is
    /// thrown naming its file.
    public static func open(_ url: URL, only: Set<Int>? = nil) throws -> ShardedIndex {
        guard ShardManifest.isManifest(url) else {
            let contents = try IndexFile.read(from: url)
            return ShardedIndex(location: url, parts: [Part(shard: 0, file: url, contents: contents, firstID: 0)],
                                count: contents.files.count, shardCount: 1, modelPath: contents.modelPath,
                                modelFingerprint: contents.modelFingerprint,
                                root: IndexLocation.resolveRoot(contents.root, indexFile: url))
        }
        let manifest = try ShardManifest.read(from: url)
        let folder = url.standardizedFileURL.deletingLastPathComponent()
        let rebuild = folder.lastPathComponent == IndexLocation.folderName && url.lastPathComponent == ShardManifest.fileName
            ? "rebuild it: retrieve index \(folder.deletingLastPathComponent().path)"
            : "rebuild it: retrieve index DIR --index \(url.path)"
        var parts: [Part] = [], firstID = 0
        for (s, shard) in manifest.shards.enumerated() {
            defer { firstID += shard.rows }
            guard only?.contains(s) ?? true else { continue }
            let file = folder.appendingPathComponent(shard.file)
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw IndexFileError(path: file.path, problem: "shard \(s) of \(manifest.shards.count) listed in \(url.lastPathComponent) is missing",
                                     fix: rebuild)
            }
            let (bytes, checksum) = try ShardManifest.trailer(of: file)
            guard bytes == shard.bytes, checksum == shard.checksum else {
                throw IndexFileError(path: file.path, problem: "shard \(s) does not match \(url.lastPathComponent) (damaged or rewritten since: \(bytes) bytes, checksum \(checksum); the manifest says \(shard.bytes), \(shard.checksum))",
                                     fix: rebuild)
            }
            let contents: IndexContents
            do { contents = try IndexFile.read(from: file) } catch var error as IndexFileError {
                error.fix = rebuild  // the shard is rebuilt by re-running the sharded index, not alone with --index
                throw error
            }
            guard contents.modelFingerprint == manifest.modelFingerprint else {
                throw SearchError.shardModelMismatch(shard: file.path, expected: manifest.modelFingerprint, found: contents.modelFingerprint)
            }
            guard contents.files.count == shard.rows else {
                throw IndexFileError(path: file.path, problem: "shard \(s) holds \(contents.files.count) rows, \(url.lastPathComponent) says \(shard.rows)",
                                     fix: rebuild)
            }
            parts.append(Part(shard: s, file: file, contents: contents, firstID: firstID))
        }
        if let first = parts.dropFirst().first(where: { $0.contents.storage.dimension != parts[0].contents.storage.dimension }) {
            throw IndexFileError(path: first.file.path, problem: "holds \(first.contents.storage.dimension)-dimensional rows, shard \(parts[0].shard) \(parts[0].contents.storage.dimension)",
                                 fix: rebuild)
        }
        let root = parts.first.map { IndexLocation.resolveRoot($0.contents.root, indexFile: $0.file) } ?? folder.deletingLastPathComponent()
        return ShardedIndex(location: url, parts: parts, count: manifest.rows, shardCount: manifest.shards.count,
                            modelPath: manifest.modelPath, modelFingerprint: manifest.modelFingerprint, root: root)
    }

    /// Row dimension (0 when no shard is open).
    public var dimension: Int { parts.first?.contents.storage.dimension ?? 0 }

    /// Rows of the opened shards.
    public var openedCount: Int { parts.reduce(0) { $0 + $1.contents.files.count } }

    /// Undecodable files recorded by the opened shards.
    public var rejectedCount: Int { parts.reduce(0) { $0 + $1.contents.rejects.count } }

    /// The storage as a person reads it, with the shard count when there is more than one.
    public var kindDescription: String {
        let kinds = Set(parts.map(\.contents.storage.kindDescription)).sorted().joined(separator: ", ")
        return shardCount == 1 ? kinds : "\(kinds), \(shardCount) shards"
    }

    /// The opened part holding global id `id`, and the row within it; nil for another rank's row
    /// or an id out of range.
    public func locate(_ id: Int) -> (part: Int, row: Int)? {
        var lo = 0, hi = parts.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2, p = parts[mid]
            if id < p.firstID { hi = mid - 1 } else if id >= p.firstID + p.contents.files.count { lo = mid + 1 } else { return (mid, id - p.firstID) }
        }
        return nil
    }

    /// The file of global id `id` (an opened shard's).
    public func file(_ id: Int) -> IndexedFile {
        guard let (p, row) = locate(id) else { preconditionFailure("ShardedIndex: id \(id) is in no opened shard (\(count) rows)") }
        return parts[p].contents.files[row]
    }

    /// Every file of the opened shards, in global id order.
    public var files: [IndexedFile] { parts.flatMap { Array($0.contents.files) } }

    /// The rows with the given global ids, (ids.count, d), Float32.
    public func rows(_ ids: [Int]) -> Tensor {
        let d = dimension
        var out = [Float](repeating: 0, count: ids.count * d)
        for (i, id) in ids.enumerated() {
            guard let (p, row) = locate(id) else { preconditionFailure("ShardedIndex: id \(id) is in no opened shard") }
            let one = IndexBuilder.rows([row], of: parts[p].contents.storage)
            for x in 0..<d { out[i * d + x] = one.data[x] }
        }
        return Tensor(shape: [ids.count, d], data: out)
    }

    /// True when (score a, path pa) ranks before (b, pb): higher score, or equal score and the
    /// path first in String order, as the folder scan sorts paths.
    @inline(__always)
    public static func ranksBefore(_ a: Float, _ pa: String, _ b: Float, _ pb: String) -> Bool {
        a > b || (a == b && pa < pb)
    }

    /// The best `k` rows of every opened shard for each query row of (q, d) `queries`, merged:
    /// global ids, by score descending then path. Exact whenever each shard's search is (flat,
    /// or `exact`): see `best(_:of:queries:k:options:)` for ties at a shard's cut.
    public func search(_ queries: Tensor, k: Int, options: SearchOptions) -> [[SearchHit]] {
        let q = queries.shape[0]
        var merged = [[(hit: SearchHit, path: String)]](repeating: [], count: q)
        for p in parts.indices {
            for (i, list) in best(p, queries: queries, k: k, options: options).enumerated() { merged[i] += list }
        }
        return merged.map { list in
            list.sorted { Self.ranksBefore($0.hit.score, $0.path, $1.hit.score, $1.path) }.prefix(k).map(\.hit)
        }
    }

    /// Part `p`'s best `k` for each query in (score, path) order, with global ids. A shard orders
    /// its own ties by row id, which is path order in a flat shard but not in a graph that grew;
    /// so it is asked for k + 1 and, for each query whose k-th score still ties the last one
    /// fetched, for twice as many until the tie ends inside what was fetched or the shard is
    /// exhausted. Then every row tied at the cut is at hand and sorting by path picks the right ones.
    func best(_ p: Int, queries: Tensor, k: Int, options: SearchOptions) -> [[(hit: SearchHit, path: String)]] {
        let part = parts[p], n = part.contents.files.count
        guard k > 0, n > 0 else { return [[(hit: SearchHit, path: String)]](repeating: [], count: queries.shape[0]) }
        var fetch = min(n, k + 1)
        var lists = hits(part.contents.storage, queries, k: fetch, options: options)
        while fetch < n {
            let open = lists.indices.filter { lists[$0].count == fetch && lists[$0][min(k, fetch) - 1].score == lists[$0][fetch - 1].score }
            if open.isEmpty { break }
            fetch = min(n, fetch * 2)
            let d = queries.shape[1]
            let again = Tensor(shape: [open.count, d], data: open.flatMap { Array(queries.data[($0 * d)..<($0 * d + d)]) })
            for (j, list) in hits(part.contents.storage, again, k: fetch, options: options).enumerated() { lists[open[j]] = list }
        }
        return lists.map { list in
            list.map { (hit: SearchHit(id: part.firstID + $0.id, score: $0.score), path: part.contents.files[$0.id].path) }
                .sorted { Self.ranksBefore($0.hit.score, $0.path, $1.hit.score, $1.path) }
                .prefix(k).map { $0 }
        }
    }

    /// One shard's search, as the storage does it (local ids, best first). Flat rows are scored
    /// by the scan kernel however many queries come: its score of a row does not depend on where
    /// the row sits, while a GEMM's edge tiles sum in another order (1e-7 apart), so a shard and
    /// the whole index would disagree on a batch.
    func hits(_ storage: IndexStorage, _ queries: Tensor, k: Int, options: SearchOptions) -> [[SearchHit]] {
        func scan(_ flat: FlatIndex) -> [[SearchHit]] {
            var flat = flat
            flat.parameters.smallQueryLimit = .max
            return flat.search(queries, k: k)
        }
        switch storage {
        case .flat(let flat):
            return scan(flat)
        case .ivf(let ivf):
            return ivf.search(queries, k: k, nprobe: options.exact ? ivf.listCount : options.nprobe)
        case .graph(let graph):
            return options.exact ? scan(graph.exactIndex) : graph.search(queries, k: k, ef: options.ef)
        }
    }
}
