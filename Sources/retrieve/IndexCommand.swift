// `retrieve index DIR`: builds or updates DIR's search index (incremental), with a progress bar
// and one summary naming every picture skipped and why; `--verify` checks an index's every
// checksum instead.
import ArgumentParser
import Cluster
import Foundation
import Neural
import Retrieval
import Search
import VectorIndex

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index a folder of pictures so that retrieve query can search it.",
        discussion: """
            Walks DIR recursively (hidden files and folders skipped) and takes every PNG or JPEG, recognised by its bytes, not its name. Tar files in it are WebDataset shards: their PNG and JPEG members are indexed as SHARD.tar/KEY.jpg, streamed one member at a time; DIR may also be one .tar or a range, 'shards/{000000..000009}.tar' (the index then belongs to the folder holding them). A shard whose size and time are unchanged is not read again; a changed one is, and only its members with other bytes are encoded. A damaged or truncated shard is reported and its members before the damage indexed. The index goes to DIR/.retrieve/index.rtrv unless --index says otherwise; retrieve query finds it from DIR or any folder below, as git finds .git. The model is recorded (path and fingerprint), so later runs and queries need no --model; the first run does.

            Re-running is incremental: only new or changed pictures are encoded (size and time, then the content hash), deleted ones dropped; an unchanged folder is not rewritten. A different model re-encodes everything. Below 50,000 pictures the index is exact (flat); above, approximate: a proximity graph (HNSW), or inverted lists (IVF) with --sq8 or --ivf. --exact, --approximate and --ivf decide whatever the size. A graph grows in place: new pictures are added to it, and only a removed or changed picture rebuilds it.

            Pictures that cannot be decoded are skipped and listed with the reason. So are damaged ones: a JPEG whose compressed data is corrupt decodes only with libjpeg guessing part of the picture (it warns "corrupt JPEG data"); --keep-damaged indexes them anyway, still listed. Every checksum of the index file is checked whenever it is opened (rows included, per 1 MiB block); a damaged or older index is rebuilt from the pictures (rows of an older, intact index are reused).

            --json prints one object:
              {"index": path, "rows": N, "storage": text, "added": N, "changed": N,
               "removed": N, "unchanged": N, "encoded": N, "undecodable": N,
               "skipped": [{"path": …, "reason": …}],
               "damaged": [{"path": …, "reason": …}],
               "nonImages": N, "damagedShards": [{"path": …, "reason": …}],
               "modelChanged": bool, "wrote": bool, "seconds": s, "imagesPerSecond": r}

            Sharded (docs/sharding.md): a folder with a sharded index stays sharded on later runs. --shards N writes N index files, DIR/.retrieve/index-R-of-N.rtrv, each holding the pictures whose path hashes to it, and the manifest DIR/.retrieve/index.json listing them (rows, bytes, checksums, the model's fingerprint); query and serve open the manifest and search every shard, merged exactly. Under mpirun -np N the ranks share the shards (N of them unless --shards says otherwise) and rank 0 writes the manifest once all are done. --shard R/N builds shard R alone (a job array: the run that finds every shard in place writes the manifest). Re-indexing is incremental per shard.

            Examples:
              retrieve index photos --model model.safetensors
              retrieve index photos                (again, later: only the changes)
              retrieve index 'shards/{000000..000009}.tar'   (WebDataset shards)
              retrieve index photos --verify       (check every checksum; change nothing)
              retrieve index photos --shards 4     (four shards and a manifest)
              mpirun -np 4 retrieve index photos   (the same, one shard per rank)

            \(ExitStatus.table)
            """
    )

    @Argument(help: ArgumentHelp("The folder of pictures (tar shards in it included), a .tar shard, or a range of them: 'shards/{000000..000009}.tar'.", valueName: "dir"))
    var folder: String

    /// What the argument names: a folder, or tar shards under the folder holding them.
    func source() throws -> (source: IndexSource, missing: [String]) {
        if IndexSource.namesShards(folder) { return try IndexSource.shards(folder) }
        return (IndexSource(folder: URL(fileURLWithPath: folder)), [])
    }

    /// The folder the index belongs to: the argument, or the folder holding its shards.
    var rootFolder: URL {
        guard IndexSource.namesShards(folder) else { return URL(fileURLWithPath: folder) }
        return (try? IndexSource.shards(folder).source.root) ?? URL(fileURLWithPath: folder).deletingLastPathComponent()
    }

    @Option(help: ArgumentHelp("The model (default: the one the existing index records).", valueName: "model"))
    var model: String?

    @Option(help: ArgumentHelp("Index file (default: DIR/.retrieve/index.rtrv), or the manifest of a sharded index (default: DIR/.retrieve/index.json).", valueName: "file"))
    var index: String?

    @Option(help: ArgumentHelp("Split the index into N shards and a manifest (default under mpirun: one per rank).", valueName: "n"))
    var shards: Int?

    @Option(help: ArgumentHelp("Build shard R of N only (0 ≤ R < N), e.g. one task of a job array.", valueName: "r/n"))
    var shard: String?

    @Option(help: ArgumentHelp("Threads for decoding, encoding and checking (default: the cores, shared out among the ranks of an mpirun job).", valueName: "n"))
    var threads: Int?

    @Flag(help: "Exact (flat) index whatever the size.")
    var exact = false

    @Flag(help: "Approximate index (a graph; IVF with --sq8) whatever the size.")
    var approximate = false

    @Flag(help: "Approximate index of inverted lists (IVF), whatever the size.")
    var ivf = false

    @Flag(help: "Store rows as 8-bit codes (4× smaller; slightly less exact scores).")
    var sq8 = false

    @Option(help: "Pictures per image-tower batch.")
    var batch = 256

    @Flag(help: "Only check the existing index (every checksum, rows included); change nothing.")
    var verify = false

    @Flag(help: "Index damaged pictures (corrupt JPEG data that libjpeg decodes by guessing) instead of skipping them.")
    var keepDamaged = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Option(help: .hidden)
    var fromNpy: String?

    func validate() throws {
        if [exact, approximate, ivf].filter({ $0 }).count > 1 { throw ValidationError("--exact, --approximate and --ivf exclude each other") }
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1, got \(shards)") }
        if let shard {
            guard IndexShard(parsing: shard) != nil else { throw ValidationError("--shard takes R/N with 0 ≤ R < N, e.g. 0/4; got \(shard)") }
            if shards != nil { throw ValidationError("give --shard R/N or --shards N, not both") }
            if Communicator.isLaunchedByMPI(ProcessInfo.processInfo.environment) {
                throw ValidationError("--shard R/N builds one shard in one process; under mpirun leave it out (the ranks share the shards)")
            }
        }
        if fromNpy != nil && (shards != nil || shard != nil) { throw ValidationError("--from-npy writes one index file, not shards") }
        if let index, ShardManifest.isManifest(URL(fileURLWithPath: index)), !isSharded, !verify {
            throw ValidationError("\(index) is not a sharded index yet: give --shards N to make one there")
        }
        if let index, isSharded, !ShardManifest.isManifest(URL(fileURLWithPath: index)) {
            throw ValidationError("a sharded index is named by its manifest: give --index FILE.json (the shards go beside it)")
        }
    }

    /// --shards, the N of --shard R/N, else the count of the manifest already there (a plain
    /// re-run of a sharded folder updates its shards), or nil.
    var shardCount: Int? {
        if let n = shards ?? shard.flatMap(IndexShard.init(parsing:))?.count { return n }
        let manifest = index.map { URL(fileURLWithPath: $0) } ?? ShardManifest.defaultFile(forFolder: rootFolder)
        guard ShardManifest.isManifest(manifest) else { return nil }
        return (try? ShardManifest.read(from: manifest))?.shards.count
    }

    /// Shards are built: asked for, or one rank of several of an mpirun job.
    var isSharded: Bool {
        shardCount != nil || (Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] ?? "1") ?? 1) > 1
    }

    var indexURL: URL {
        if let index { return URL(fileURLWithPath: index) }
        let dir = rootFolder
        return isSharded ? ShardManifest.defaultFile(forFolder: dir) : IndexLocation.defaultFile(forFolder: dir)
    }

    func run() throws {
        LargeAllocations.keepInProcess()
        let world = Communicator.world
        Distributed.start(world)
        if let threads { Threads.count = threads }
        if verify { return try runVerify() }
        if let fromNpy { return try NPYIndexing.build(npy: fromNpy, folder: folder, index: indexURL, model: try modelURL(), options: buildOptions) }
        if isSharded || world.isDistributed { return try ShardedIndexing(command: self, manifest: indexURL, world: world).run(model: try modelURL()) }
        try runIndex()
    }

    var buildOptions: IndexBuildOptions {
        var o = IndexBuildOptions()
        o.mode = exact ? .exact : approximate ? .approximate : ivf ? .ivf : .automatic
        o.scalarQuantized = sq8
        return o
    }

    /// --model, else the model the existing index records: its manifest, a shard, or (to
    /// shard an index that was one file) the folder's unsharded index.
    func modelURL() throws -> URL {
        if let model { return URL(fileURLWithPath: model).standardizedFileURL }
        var recorded = [indexURL]
        if isSharded {
            recorded = ShardManifest.shardFiles(count: shardCount ?? 1, beside: indexURL)
                + [IndexLocation.defaultFile(forFolder: rootFolder)]
            if let manifest = try? ShardManifest.read(from: indexURL), !manifest.modelPath.isEmpty {
                return URL(fileURLWithPath: manifest.modelPath)
            }
        }
        for file in recorded where FileManager.default.fileExists(atPath: file.path) {
            do {
                return URL(fileURLWithPath: try IndexFile.recordedModel(in: file))
            } catch let e as IndexFileError {
                throw CommandError("\(e.path): \(e.problem), so the model it was built with is unknown (rebuild it: retrieve index \(folder) --model MODEL)",
                                   status: .damagedFile)
            }
        }
        throw SearchError.modelRequired(folder: folder)
    }

    func runVerify() throws {
        if ShardManifest.isManifest(indexURL) || isSharded {
            let index = try ShardedIndex.open(indexURL)
            print("\(indexURL.path): ok, \(counted(index.count, "picture")) in \(counted(index.shardCount, "shard")), \(index.kindDescription), every checksum verified")
            return
        }
        let contents = try IndexFile.read(from: indexURL)
        print("\(indexURL.path): ok, \(counted(contents.files.count, "picture")), \(contents.storage.kindDescription), format \(contents.formatVersion), every checksum verified")
    }

    func runIndex() throws {
        let modelURL = try modelURL()
        let (encoder, fingerprint) = try ModelFile.read(from: modelURL)
        var indexer = ImageIndexer(model: encoder, modelPath: modelURL.path, fingerprint: fingerprint)
        indexer.batchSize = batch
        indexer.build = buildOptions
        indexer.keepDamaged = keepDamaged
        let bar = ProgressBar("index", total: 1, unit: "img")
        let (source, missing) = try source()
        warnMissing(missing)
        let report = try indexer.update(source, indexFile: indexURL) { done, total in
            bar.update(done, of: total)
        }
        if !report.encodedPaths.isEmpty { bar.finish("", count: report.encodedPaths.count + report.undecodable.count) }
        warn(report)
        removeStaleManifest()
        if json {
            try Console.printJSON(Summary(report))
            return
        }
        let rate = report.encodeSeconds > 0 ? Double(report.encodedPaths.count) / report.encodeSeconds : 0
        print("\(counted(report.rows, "picture")) indexed, \(report.storage): \(report.added) new, \(report.changed) changed, "
              + "\(report.removed) removed, \(report.unchanged + report.touched) unchanged"
              + (report.undecodable.count + report.knownUndecodable > 0 ? ", \(report.undecodable.count + report.knownUndecodable) skipped" : "")
              + (report.nonImages > 0 ? ", \(counted(report.nonImages, "other file")) ignored" : ""))
        if !report.encodedPaths.isEmpty {
            print("encoded \(counted(report.encodedPaths.count, "picture")) in \(fixed(report.encodeSeconds, 1)) s (\(fixed(rate, 0)) images/s)")
        }
        print(report.wroteFile ? "wrote \(indexURL.path) in \(fixed(report.seconds, 2)) s"
                               : "\(indexURL.path) is up to date (checked in \(fixed(report.seconds, 2)) s)")
    }

    /// The run's warnings on stderr: a previous index set aside, a model change, skipped and
    /// damaged pictures. `everyRank`: printed by a rank other than the leader too (each rank
    /// knows only the pictures of its own shards).
    func warn(_ report: IndexingReport, everyRank: Bool = false) {
        let line: (String) -> Void = everyRank ? Console.failure : Console.error
        if let problem = report.previousIndexProblem { line("warning: previous index not used, rebuilding it from the pictures: \(problem)") }
        if report.modelChanged { line("note: \(report.indexFile.lastPathComponent): the model differs from the one the index was built with: re-encoding every picture") }
        if !report.undecodable.isEmpty {
            let damaged = report.undecodable.filter { $0.reason.hasPrefix("damaged ") }.count
            line("warning: \(counted(report.undecodable.count, "picture")) skipped"
                 + (damaged > 0 ? " (\(damaged) damaged: --keep-damaged indexes those anyway)" : "") + ":")
            for r in report.undecodable { line("  \(r.path): \(r.reason)") }
        }
        for r in report.damagedArchives { line("warning: \(r.path): \(r.reason)") }
        if !report.damaged.isEmpty {
            line("warning: \(counted(report.damaged.count, "damaged picture")) indexed anyway (--keep-damaged):")
            for r in report.damaged { line("  \(r.path): \(r.reason)") }
        }
    }

    /// The shards a range names that do not exist: one line, not fatal.
    func warnMissing(_ missing: [String]) {
        guard !missing.isEmpty else { return }
        Console.error("warning: \(counted(missing.count, "shard")) named but missing: \(missing.prefix(5).joined(separator: ", "))"
                      + (missing.count > 5 ? ", …" : ""))
    }

    /// An unsharded index written to DIR/.retrieve replaces a sharded one there: the manifest
    /// goes (query would find it first), the shards with it.
    func removeStaleManifest() {
        guard index == nil else { return }
        let manifest = ShardManifest.defaultFile(forFolder: rootFolder)
        guard let old = try? ShardManifest.read(from: manifest) else { return }
        for shard in old.shards { try? FileManager.default.removeItem(at: manifest.deletingLastPathComponent().appendingPathComponent(shard.file)) }
        try? FileManager.default.removeItem(at: manifest)
        Console.error("note: removed the sharded index \(manifest.path) and its \(counted(old.shards.count, "shard")), which \(IndexLocation.fileName) replaces")
    }

    struct Summary: Encodable {
        struct Skipped: Encodable { let path: String; let reason: String }
        let index: String, rows: Int, storage: String, added: Int, changed: Int, removed: Int, unchanged: Int
        let encoded: Int, undecodable: Int, skipped: [Skipped], damaged: [Skipped], nonImages: Int, damagedShards: [Skipped]
        let modelChanged: Bool, wrote: Bool, seconds: Double, imagesPerSecond: Double
        init(_ r: IndexingReport) {
            index = r.indexFile.path; rows = r.rows; storage = r.storage; added = r.added; changed = r.changed
            removed = r.removed; unchanged = r.unchanged + r.touched; encoded = r.encodedPaths.count
            undecodable = r.undecodable.count + r.knownUndecodable; nonImages = r.nonImages
            skipped = r.undecodable.map { Skipped(path: $0.path, reason: $0.reason) }
            damaged = r.damaged.map { Skipped(path: $0.path, reason: $0.reason) }
            damagedShards = r.damagedArchives.map { Skipped(path: $0.path, reason: $0.reason) }
            modelChanged = r.modelChanged; wrote = r.wroteFile; seconds = r.seconds
            imagesPerSecond = r.encodeSeconds > 0 ? Double(encoded) / r.encodeSeconds : 0
        }
    }
}

/// The hidden `--from-npy` path: an index of given vectors (rows named row-0000000 …) recorded
/// as made by a model of the same dimension, for measuring query speed on large indexes.
enum NPYIndexing {
    static func build(npy: String, folder: String, index: URL, model: URL, options: IndexBuildOptions) throws {
        let (_, fingerprint) = try ModelFile.read(from: model)
        let rows = try NPYReader.read(path: npy)
        let n = rows.shape[0], d = rows.shape[1]
        let start = Date()
        let root = URL(fileURLWithPath: folder).standardizedFileURL
        try FileManager.default.createDirectory(at: index.deletingLastPathComponent(), withIntermediateDirectories: true)
        let storage = try IndexFile.write(vectors: rows, to: index, name: { String(format: "row-%07d.png", $0) },
                                          modelPath: model.path, modelFingerprint: fingerprint,
                                          root: IndexLocation.rootReference(root: root, indexFile: index), options: options)
        print("wrote \(index.path): \(counted(n, "row")) of \(d), \(storage.kindDescription), in \(fixed(Date().timeIntervalSince(start), 1)) s")
    }
}
