// `retrieve index DIR --shards N`, `--shard R/N` and `mpirun -np N retrieve index DIR`: each
// shard is an ordinary index file of the pictures whose path hashes to it (Search.IndexShard),
// updated incrementally as one index is; the manifest is written once every shard is whole —
// by the one process, by rank 0 after every rank is done, or by whichever `--shard` run finds
// the last shard in place. A rank that fails ends the whole job (ExitStatus: MPI_Abort).
import Cluster
import Foundation
import Retrieval
import Search

struct ShardedIndexing {
    let command: IndexCommand
    let manifest: URL
    let world: Communicator

    /// The shard count: --shards, the N of --shard R/N, else the ranks of the job.
    var count: Int { command.shardCount ?? world.size }

    /// The shards this process builds.
    var mine: [IndexShard] {
        if let one = command.shard.flatMap(IndexShard.init(parsing:)) { return [one] }
        return IndexShard.shards(count: count, rank: world.rank, ranks: world.size)
    }

    func run(model: URL) throws {
        let (encoder, fingerprint) = try ModelFile.read(from: model)
        let files = ShardManifest.shardFiles(count: count, beside: manifest)
        let bar = ProgressBar("index", total: 1, unit: "img")
        var reports: [IndexingReport] = []
        let (source, missing) = try command.source()
        if world.isLeader { command.warnMissing(missing) }
        for shard in mine {
            var indexer = ImageIndexer(model: encoder, modelPath: model.path, fingerprint: fingerprint)
            indexer.batchSize = command.batch
            indexer.build = command.buildOptions
            indexer.keepDamaged = command.keepDamaged
            indexer.shard = shard
            try FileManager.default.createDirectory(at: manifest.deletingLastPathComponent(), withIntermediateDirectories: true)
            reports.append(try indexer.update(source, indexFile: files[shard.index]) { done, total in
                bar.update(done, of: total)
            })
        }
        let encoded = reports.reduce(0) { $0 + $1.encodedPaths.count + $1.undecodable.count }
        if encoded > 0 { bar.finish("", count: encoded) }
        for report in reports { command.warn(report, everyRank: world.isDistributed) }
        let totals = world.allReduceSum(Totals(reports).figures)  // also waits for every rank's shards
        guard world.isLeader else { return }
        let written = try writeManifestIfComplete()
        let sum = Totals(figures: totals)
        let built = command.shard == nil ? count : 1
        if command.json {
            try Console.printJSON(ShardSummary(manifest: manifest.path, shards: count, built: built,
                                               totals: sum, wroteManifest: written))
            return
        }
        print("\(counted(sum.rows, "picture")) indexed in \(counted(built, "shard")) of \(count)"
              + (world.isDistributed ? " over \(world.size) ranks" : "")
              + ": \(sum.added) new, \(sum.changed) changed, \(sum.removed) removed, \(sum.unchanged) unchanged"
              + (sum.skipped > 0 ? ", \(sum.skipped) skipped" : ""))
        if sum.encoded > 0, sum.encodeSeconds > 0 {
            print("encoded \(counted(sum.encoded, "picture")) in \(fixed(sum.encodeSeconds, 1)) s (summed over the shards)")
        }
        if written {
            print("wrote \(manifest.path) (\(count) shards)")
        } else {
            let missing = files.filter { !FileManager.default.fileExists(atPath: $0.path) }.map(\.lastPathComponent)
            print("\(manifest.path) not written yet: waiting for \(missing.joined(separator: ", "))")
        }
    }

    /// Writes the manifest when every shard of `count` is there (a `--shard` run may come before
    /// the others), then removes index files of another layout in the same folder, which the
    /// manifest replaces. False when a shard is still missing.
    func writeManifestIfComplete() throws -> Bool {
        let files = ShardManifest.shardFiles(count: count, beside: manifest)
        guard files.allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) else { return false }
        try ShardManifest.write(count: count, to: manifest)
        guard manifest.lastPathComponent == ShardManifest.fileName else { return true }
        let folder = manifest.deletingLastPathComponent()
        let keep = Set(files.map(\.lastPathComponent))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where !keep.contains(name)
            && (name == IndexLocation.fileName || (name.hasPrefix("index-") && name.hasSuffix(".rtrv") && name.contains("-of-"))) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
            Console.error("note: removed \(folder.appendingPathComponent(name).path), which \(manifest.lastPathComponent) replaces")
        }
        return true
    }
}

/// The figures of several shards' reports, summed (over the ranks too, as Doubles).
struct Totals {
    var rows = 0, added = 0, changed = 0, removed = 0, unchanged = 0, encoded = 0, skipped = 0, nonImages = 0
    var encodeSeconds = 0.0

    init(_ reports: [IndexingReport]) {
        for r in reports {
            rows += r.rows; added += r.added; changed += r.changed; removed += r.removed
            unchanged += r.unchanged + r.touched; encoded += r.encodedPaths.count
            skipped += r.undecodable.count + r.knownUndecodable; nonImages += r.nonImages
            encodeSeconds += r.encodeSeconds
        }
    }

    init(figures f: [Double]) {
        (rows, added, changed, removed) = (Int(f[0]), Int(f[1]), Int(f[2]), Int(f[3]))
        (unchanged, encoded, skipped, nonImages) = (Int(f[4]), Int(f[5]), Int(f[6]), Int(f[7]))
        encodeSeconds = f[8]
    }

    var figures: [Double] {
        [rows, added, changed, removed, unchanged, encoded, skipped, nonImages].map(Double.init) + [encodeSeconds]
    }
}

/// `--json` of a sharded run.
struct ShardSummary: Encodable {
    let manifest: String, shards: Int, built: Int
    let rows: Int, added: Int, changed: Int, removed: Int, unchanged: Int, encoded: Int, undecodable: Int, nonImages: Int
    let wroteManifest: Bool

    init(manifest: String, shards: Int, built: Int, totals t: Totals, wroteManifest: Bool) {
        self.manifest = manifest; self.shards = shards; self.built = built
        rows = t.rows; added = t.added; changed = t.changed; removed = t.removed; unchanged = t.unchanged
        encoded = t.encoded; undecodable = t.skipped; nonImages = t.nonImages
        self.wroteManifest = wroteManifest
    }
}
