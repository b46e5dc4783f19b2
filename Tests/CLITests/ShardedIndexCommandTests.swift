// `retrieve index DIR --shards N`, `--shard R/N` and `mpirun -np 2 retrieve index DIR` against
// one index over the same files: `retrieve query` prints exactly the same results (paths, order,
// scores to the last digit, ties between identical copies in different shards included). Both
// sides index with --batch 1 --threads 1: the image tower's embeddings differ by about 6e-8 with
// the batch's make-up and the thread count, and this test compares with ==; queries likewise run
// with --threads 1 (the text tower's batch of captions differs by as much with the thread count). Also: the default
// location and query's finding the manifest, an unchanged re-run, and the errors (a damaged or
// missing shard, shards of two models, a rank that fails) with their exit statuses.
import Foundation
import Testing

@Suite(.serialized)
struct ShardedIndexCommandTests {
    static let same = ["--batch", "1", "--threads", "1"]
    static let captions = ["a red circle", "a blue square", "a small green triangle", "a large orange diamond",
                           "red", "blue", "green", "circle", "square", "a circle on a striped background"]

    /// The workspace's pictures plus identical copies of four of them (ties across shards).
    static func pictures(_ name: String) throws -> (workspace: CLIWorkspace, images: URL) {
        let w = try CLIWorkspace.get()
        let images = try w.copyOfImages(name)
        try? FileManager.default.removeItem(at: images.appendingPathComponent(".retrieve"))
        let originals = try FileManager.default.contentsOfDirectory(atPath: images.path).filter { $0.hasSuffix(".png") }.sorted().prefix(4)
        for (i, name) in originals.enumerated() {
            for copy in 0..<3 {
                let folder = images.appendingPathComponent("copies-\(copy)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: images.appendingPathComponent(name), to: folder.appendingPathComponent("c\(i).png"))
            }
        }
        return (w, images)
    }

    /// What `retrieve query` prints for the captions (one batch) and for one of them alone.
    static func answers(_ index: URL) throws -> (batch: String, one: String) {
        let queries = index.deletingLastPathComponent().appendingPathComponent("queries.txt")
        try captions.joined(separator: "\n").write(to: queries, atomically: true, encoding: .utf8)
        let batch = try CommandLineTool.run(["query", "--queries", queries.path, "--index", index.path, "-k", "70", "--all", "--json", "--threads", "1"])
        let one = try CommandLineTool.run(["query", "a red circle", "--index", index.path, "-k", "9", "--all", "--threads", "1"])
        #expect(batch.status == 0 && one.status == 0, "\(batch.all)\n\(one.all)")
        return (batch.stdout, one.stdout)
    }

    @Test func shardedIndexesAnswerExactlyAsOneIndex() throws {
        let (w, images) = try Self.pictures("sharded")
        let root = images.deletingLastPathComponent()
        let one = root.appendingPathComponent("one/index.rtrv")
        let single = try CommandLineTool.run(["index", images.path, "--model", w.model, "--index", one.path] + Self.same)
        #expect(single.status == 0, "\(single.all)")
        let expected = try Self.answers(one)
        let lists = try JSON.parse(expected.batch) as? [[[String: Any]]] ?? []
        #expect(lists.count == Self.captions.count && lists.allSatisfy { $0.count == 60 }, "48 pictures and 12 copies each time")
        // The copies tie with their originals: the same score, listed by path.
        let scores = (lists.first ?? []).compactMap { $0["score"] as? Double }
        #expect(Set(scores).count < scores.count, "no tie in \(scores)")

        for count in [2, 3] {
            let manifest = root.appendingPathComponent("shards-\(count)/index.json")
            let run = try CommandLineTool.run(["index", images.path, "--model", w.model, "--index", manifest.path,
                                               "--shards", "\(count)"] + Self.same)
            #expect(run.status == 0 && run.stdout.contains("60 pictures indexed in \(count) shards of \(count)"), "\(run.all)")
            let answers = try Self.answers(manifest)
            #expect(answers.batch == expected.batch, "\(count) shards: \(answers.batch.prefix(400))\nvs\n\(expected.batch.prefix(400))")
            #expect(answers.one == expected.one, "\(count) shards:\n\(answers.one)\nvs\n\(expected.one)")
        }

        let manifest = root.appendingPathComponent("mpi/index.json")
        let job = try CommandLineTool.mpirun(ranks: 2, ["index", images.path, "--model", w.model, "--index", manifest.path] + Self.same)
        #expect(job.status == 0 && job.stdout.contains("in 2 shards of 2 over 2 ranks"), "\(job.all)")
        #expect(job.stdout.split(separator: "\n").filter { $0.hasPrefix("wrote ") }.count == 1, "rank 0 alone writes the manifest: \(job.stdout)")
        let answers = try Self.answers(manifest)
        #expect(answers.batch == expected.batch && answers.one == expected.one, "mpirun -np 2:\n\(answers.one)\nvs\n\(expected.one)")
    }

    @Test func ranksSearchTheirOwnShardsAndMergeExactly() throws {
        let (w, images) = try Self.pictures("sharded-query")
        let root = images.deletingLastPathComponent()
        let one = root.appendingPathComponent("one/index.rtrv"), manifest = root.appendingPathComponent("three/index.json")
        for (file, extra) in [(one, [String]()), (manifest, ["--shards", "3"])] {
            let run = try CommandLineTool.run(["index", images.path, "--model", w.model, "--index", file.path] + extra + Self.same)
            #expect(run.status == 0, "\(run.all)")
        }
        let expected = try Self.answers(one)
        let queries = one.deletingLastPathComponent().appendingPathComponent("queries.txt").path
        let cut = try CommandLineTool.run(["query", "a red circle", "--index", one.path, "-k", "20", "--threads", "1"])
        // Two ranks (shards 0 and 2, and 1) and four (the last has no shard).
        for ranks in [2, 4] {
            let batch = try CommandLineTool.mpirun(ranks: ranks, ["query", "--queries", queries, "--index", manifest.path, "-k", "70", "--all", "--json", "--threads", "1"])
            #expect(batch.status == 0 && batch.stdout == expected.batch, "\(ranks) ranks: \(batch.stderr)\n\(batch.stdout.prefix(300))")
            let single = try CommandLineTool.mpirun(ranks: ranks, ["query", "a red circle", "--index", manifest.path, "-k", "9", "--all", "--threads", "1"])
            #expect(single.stdout == expected.one, "\(ranks) ranks:\n\(single.stdout)\nvs\n\(expected.one)")
            // The likelihood cut comes after the merge: the same list and the same note.
            let merged = try CommandLineTool.mpirun(ranks: ranks, ["query", "a red circle", "--index", manifest.path, "-k", "20", "--threads", "1"])
            #expect(merged.stdout == cut.stdout && merged.stderr.contains("below 50% likely") == cut.stderr.contains("below 50% likely"),
                    "\(ranks) ranks:\n\(merged.all)\nvs\n\(cut.all)")
        }
        // A picture query: rank 0 embeds it and sends the rows, so every rank searches the same
        // bits; a picture rank 0 cannot read ends the job with its line, not a hang.
        let picture = images.appendingPathComponent("copies-0/c0.png").path
        let alone = try CommandLineTool.run(["query", "--image", picture, "--index", one.path, "-k", "12", "--json", "--threads", "1"])
        let ranked = try CommandLineTool.mpirun(ranks: 2, ["query", "--image", picture, "--index", manifest.path, "-k", "12", "--json", "--threads", "1"])
        #expect(alone.status == 0 && ranked.status == 0 && ranked.stdout == alone.stdout, "\(ranked.all)\nvs\n\(alone.all)")
        let missing = try CommandLineTool.mpirun(ranks: 2, ["query", "--image", root.appendingPathComponent("nowhere.png").path, "--index", manifest.path])
        #expect(missing.status != 0 && missing.stderr.contains("nowhere.png"), "\(missing.all)")
        // A query whose words the model does not know: every rank knows it alike, so the job ends
        // as one process does (status 2, the line once), not through an abort.
        let unknown = try CommandLineTool.mpirun(ranks: 2, ["query", "zzzz qqqq", "--index", manifest.path])
        let lone = try CommandLineTool.run(["query", "zzzz qqqq", "--index", manifest.path])
        #expect(lone.status == 2 && unknown.status == 2, "\(unknown.all)")
        #expect(unknown.stderr.components(separatedBy: "knows none of its words").count == 2 && !unknown.stderr.contains("MPI_ABORT"),
                "\(unknown.stderr)")
        let refused = try CommandLineTool.mpirun(ranks: 2, ["query", "a red circle", "--index", one.path])
        #expect(refused.status != 0 && refused.stderr.contains("give its manifest"), "\(refused.all)")
    }

    @Test func theDefaultManifestIsFoundAndReindexedPerShard() throws {
        let (w, images) = try Self.pictures("sharded-default")
        let first = try CommandLineTool.run(["index", images.path, "--model", w.model, "--shards", "2", "--json"])
        #expect(first.status == 0, "\(first.all)")
        let summary = try JSON.object(first.stdout)
        #expect(summary["rows"] as? Int == 60 && summary["shards"] as? Int == 2 && summary["wroteManifest"] as? Bool == true, "\(summary)")
        let folder = images.appendingPathComponent(".retrieve")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["index.json", "index-0-of-2.rtrv", "index-1-of-2.rtrv"])
        // From a sub-folder, query finds the manifest upwards; the model is the recorded one.
        let query = try CommandLineTool.run(["query", "a red circle", "-k", "3", "--all"], in: images.appendingPathComponent("copies-0"))
        #expect(query.status == 0 && query.stdout.split(separator: "\n").count == 3, "\(query.all)")
        // Unchanged: nothing encoded. One picture more: encoded once, in its shard.
        let again = try CommandLineTool.run(["index", images.path, "--json"])  // no --shards: the manifest says 2
        let againSummary = try JSON.object(again.stdout)
        #expect(againSummary["encoded"] as? Int == 0 && againSummary["shards"] as? Int == 2, "\(again.all)")
        try FileManager.default.copyItem(at: images.appendingPathComponent("copies-0/c0.png"), to: images.appendingPathComponent("extra.png"))
        let more = try CommandLineTool.run(["index", images.path, "--shards", "2", "--json"])
        let moreSummary = try JSON.object(more.stdout)
        #expect(moreSummary["encoded"] as? Int == 1 && moreSummary["added"] as? Int == 1 && moreSummary["rows"] as? Int == 61, "\(more.all)")
        // --verify checks every shard; --shard R/N builds one, and the last one in place writes the manifest.
        let verify = try CommandLineTool.run(["index", images.path, "--shards", "2", "--verify"])
        #expect(verify.status == 0 && verify.stdout.contains("61 pictures in 2 shards"), "\(verify.all)")
        let manifest = images.deletingLastPathComponent().appendingPathComponent("array/index.json")
        let task1 = try CommandLineTool.run(["index", images.path, "--model", w.model, "--index", manifest.path, "--shard", "1/2"])
        #expect(task1.status == 0 && task1.stdout.contains("not written yet: waiting for index-0-of-2.rtrv"), "\(task1.all)")
        let task0 = try CommandLineTool.run(["index", images.path, "--model", w.model, "--index", manifest.path, "--shard", "0/2"])
        #expect(task0.status == 0 && task0.stdout.contains("wrote \(manifest.path)"), "\(task0.all)")
        let fromArray = try CommandLineTool.run(["query", "a red circle", "-k", "5", "--all", "--index", manifest.path])
        let fromDefault = try CommandLineTool.run(["query", "a red circle", "-k", "5", "--all", "--index", folder.appendingPathComponent("index.json").path])
        #expect(fromArray.status == 0 && fromArray.stdout.split(separator: "\n").count == 5, "\(fromArray.all)")
        _ = fromDefault
    }

    @Test func badShardsEndInOneLineNamingTheFile() throws {
        let (w, images) = try Self.pictures("sharded-bad")
        let root = images.deletingLastPathComponent()
        let manifest = root.appendingPathComponent("bad/index.json")
        let built = try CommandLineTool.run(["index", images.path, "--model", w.model, "--index", manifest.path, "--shards", "2"])
        #expect(built.status == 0, "\(built.all)")
        let shard = root.appendingPathComponent("bad/index-1-of-2.rtrv")
        var damaged = try Data(contentsOf: shard)
        damaged[400] ^= 0x10
        try damaged.write(to: shard)
        let query = try CommandLineTool.run(["query", "a red circle", "--index", manifest.path])
        #expect(query.status == 4 && query.stderr.contains("error: \(shard.path):") && query.stdout.isEmpty, "\(query.all)")
        #expect(query.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1, "\(query.stderr)")
        // The fix it names works: a plain re-run (the manifest keeps it sharded) rebuilds the shard.
        #expect(query.stderr.contains("rebuild it: retrieve index DIR --index \(manifest.path)"), "\(query.stderr)")
        let rebuilt = try CommandLineTool.run(["index", images.path, "--index", manifest.path, "--json"])
        let rebuiltSummary = try JSON.object(rebuilt.stdout)
        #expect(rebuilt.status == 0 && rebuiltSummary["shards"] as? Int == 2, "\(rebuilt.all)")
        #expect(try CommandLineTool.run(["query", "a red circle", "--index", manifest.path]).status == 0)
        try FileManager.default.removeItem(at: shard)
        let missing = try CommandLineTool.run(["query", "a red circle", "--index", manifest.path])
        #expect(missing.status == 4 && missing.stderr.contains("error: \(shard.path): shard 1 of 2") && missing.stderr.contains("missing"), "\(missing.all)")
        #expect(try CommandLineTool.run(["index", images.path, "--index", manifest.path]).status == 0)
        #expect(try CommandLineTool.run(["query", "a red circle", "--index", manifest.path]).status == 0)

        // A shard rebuilt with another model: the manifest is not written, and the status is 3.
        let other = root.appendingPathComponent("other.safetensors").path
        let train = try CommandLineTool.run(["train", "--data", w.captions, "--out", other, "--epochs", "1", "--seed", "5"] + CLIWorkspace.quick)
        #expect(train.status == 0, "\(train.all)")
        let before = try Data(contentsOf: manifest)
        let mixed = try CommandLineTool.run(["index", images.path, "--model", other, "--index", manifest.path, "--shard", "1/2"])
        #expect(mixed.status == 3 && mixed.stderr.contains("index-") && mixed.stderr.contains("fingerprint"), "\(mixed.all)")
        #expect(try Data(contentsOf: manifest) == before, "the manifest was rewritten")

        // A rank that fails ends the job (no hang), and no manifest is written.
        let failing = root.appendingPathComponent("failing/index.json")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("failing/index-1-of-2.rtrv"), withIntermediateDirectories: true)
        let job = try CommandLineTool.mpirun(ranks: 2, ["index", images.path, "--model", w.model, "--index", failing.path])
        #expect(job.status != 0 && job.stderr.contains("error:"), "\(job.all)")
        #expect(!FileManager.default.fileExists(atPath: failing.path))
    }
}
