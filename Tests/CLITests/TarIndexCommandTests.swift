// `retrieve index` over WebDataset tar shards, run as a user runs it: the workspace's pictures
// packed into two shards (with caption members) index to exactly the scores of the same pictures
// as loose files; a changed shard re-encodes only its new members, an unchanged one keeps its
// rows; a truncated shard and a bad member picture are reported and the rest indexed; the server
// reads a member's thumbnail from its shard; --shards 2 over the tars answers as one index.
import Foundation
import Testing
import Vision

@Suite(.serialized)
struct TarIndexCommandTests {
    static let same = ["--batch", "1", "--threads", "1"]
    static let captions = ["a red circle", "a blue square", "a small green triangle", "red", "square"]

    /// The workspace's pictures: loose under `flat/a`, `flat/b`, and packed as `shards/a.tar`, `shards/b.tar`.
    static func fixture(_ name: String) throws -> (workspace: CLIWorkspace, flat: URL, shards: URL) {
        let w = try CLIWorkspace.get()
        let root = try CommandLineTool.folder(name)
        let names = try FileManager.default.contentsOfDirectory(atPath: w.images.path).filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }.sorted()
        let flat = root.appendingPathComponent("flat"), shards = root.appendingPathComponent("shards")
        try FileManager.default.createDirectory(at: shards, withIntermediateDirectories: true)
        for (part, members) in [("a", Array(names.prefix(24))), ("b", Array(names.dropFirst(24)))] {
            let folder = flat.appendingPathComponent(part)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for n in members {
                try FileManager.default.copyItem(at: w.images.appendingPathComponent(n), to: folder.appendingPathComponent(n))
            }
            try tar(shards.appendingPathComponent("\(part).tar"), from: folder, members: members, captions: true)
        }
        return (w, flat, shards)
    }

    /// Packs `members` of `folder` (and a caption member KEY.txt for each) into `archive`, ustar.
    static func tar(_ archive: URL, from folder: URL, members: [String], captions: Bool) throws {
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".staging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        var listed: [String] = []
        for n in members {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(n), to: staging.appendingPathComponent(n))
            listed.append(n)
            if captions {
                let key = (n as NSString).deletingPathExtension
                try "a caption of \(key)".write(to: staging.appendingPathComponent(key + ".txt"), atomically: true, encoding: .utf8)
                listed.append(key + ".txt")
            }
        }
        let out = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/tar"),
                                          ["--format=ustar", "-cf", archive.path, "-C", staging.path] + listed)
        #expect(out.status == 0, "\(out.all)")
    }

    /// (path under the indexed folder, with ".tar/" read as "/", score) of every answer to the
    /// captions, in order.
    static func answers(_ index: URL) throws -> [[String]] {
        let queries = index.deletingLastPathComponent().appendingPathComponent("queries-\(UUID().uuidString).txt")
        try captions.joined(separator: "\n").write(to: queries, atomically: true, encoding: .utf8)
        let out = try CommandLineTool.run(["query", "--queries", queries.path, "--index", index.path, "-k", "60", "--all", "--json", "--threads", "1"])
        #expect(out.status == 0, "\(out.all)")
        let lists = try JSON.parse(out.stdout) as? [[[String: Any]]] ?? []
        let folder = index.deletingLastPathComponent().deletingLastPathComponent().path + "/"
        return lists.map { list in
            list.map {
                let path = ($0["path"] as? String ?? "?").replacingOccurrences(of: folder, with: "").replacingOccurrences(of: ".tar/", with: "/")
                return "\(path) \($0["score"] ?? "?")"
            }
        }
    }

    static func index(_ arguments: [String]) throws -> (CommandLineTool.Output, [String: Any]) {
        let out = try CommandLineTool.run(["index"] + arguments + ["--json"] + same)
        return (out, (try? JSON.object(out.stdout)) ?? [:])
    }

    @Test func shardsIndexToTheScoresOfTheLoosePictures() throws {
        let (w, flat, shards) = try Self.fixture("tar-same")
        let (a, ja) = try Self.index([shards.path, "--model", w.model])
        let (b, _) = try Self.index([flat.path, "--model", w.model])
        #expect(a.status == 0 && b.status == 0, "\(a.all)\n\(b.all)")
        #expect(ja["rows"] as? Int == 48 && ja["added"] as? Int == 48 && ja["nonImages"] as? Int == 0, "\(a.stdout)")
        let fromTars = try Self.answers(shards.appendingPathComponent(".retrieve/index.rtrv"))
        let fromFiles = try Self.answers(flat.appendingPathComponent(".retrieve/index.rtrv"))
        #expect(fromTars.count == Self.captions.count && fromTars.allSatisfy { $0.count == 48 })
        #expect(fromTars == fromFiles)
        // The paths are the members', under the shard: a.tar/KEY.png.
        let raw = try CommandLineTool.run(["query", "a red circle", "--index", shards.appendingPathComponent(".retrieve/index.rtrv").path, "--all", "--json"])
        #expect(raw.stdout.contains(".tar/") && raw.stdout.contains(".png"), "\(raw.stdout.prefix(300))")

        // One .tar, and a brace range, name shards too (the index belongs to their folder).
        let one = try Self.index([shards.appendingPathComponent("a.tar").path, "--index", shards.appendingPathComponent("one.rtrv").path,
                                  "--model", w.model])
        #expect(one.0.status == 0 && one.1["rows"] as? Int == 24, "\(one.0.all)")
        let range = try Self.index([shards.path + "/{0..1}.tar", "--index", shards.appendingPathComponent("none.rtrv").path, "--model", w.model])
        #expect(range.0.status != 0 && range.0.stderr.contains("no such tar shard"), "\(range.0.all)")
    }

    @Test func aChangedShardReencodesOnlyItsNewMembers() throws {
        let (w, flat, shards) = try Self.fixture("tar-incremental")
        #expect(try Self.index([shards.path, "--model", w.model]).0.status == 0)
        // b.tar gains one picture (another picture's bytes under a new key); a.tar is left alone.
        let b = flat.appendingPathComponent("b")
        var members = try FileManager.default.contentsOfDirectory(atPath: b.path).filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }.sorted()
        let flipped = flat.appendingPathComponent("a/" + (try FileManager.default.contentsOfDirectory(atPath: flat.appendingPathComponent("a").path).sorted()[0]))
        try FileManager.default.copyItem(at: flipped, to: b.appendingPathComponent("zz-new.png"))
        members.append("zz-new.png")
        try Self.tar(shards.appendingPathComponent("b.tar"), from: b, members: members, captions: true)
        let (run, j) = try Self.index([shards.path])
        #expect(run.status == 0, "\(run.all)")
        #expect(j["added"] as? Int == 1 && j["encoded"] as? Int == 1 && j["changed"] as? Int == 0 && j["unchanged"] as? Int == 48
                && j["removed"] as? Int == 0 && j["rows"] as? Int == 49, "\(run.stdout)")
        // Unchanged shards: nothing read, nothing written.
        let (again, ja) = try Self.index([shards.path])
        #expect(again.status == 0 && ja["encoded"] as? Int == 0 && ja["wrote"] as? Bool == false && ja["unchanged"] as? Int == 49, "\(again.stdout)")
        // A shard whose time changed but not its bytes: read again, nothing encoded.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: shards.appendingPathComponent("a.tar").path)
        let (touched, jt) = try Self.index([shards.path])
        #expect(touched.status == 0 && jt["encoded"] as? Int == 0 && jt["unchanged"] as? Int == 49 && jt["wrote"] as? Bool == true, "\(touched.stdout)")
        // A removed shard drops its rows.
        try FileManager.default.removeItem(at: shards.appendingPathComponent("a.tar"))
        let (removed, jr) = try Self.index([shards.path])
        #expect(removed.status == 0 && jr["removed"] as? Int == 24 && jr["rows"] as? Int == 25 && jr["encoded"] as? Int == 0, "\(removed.stdout)")
    }

    @Test func aTruncatedShardAndABadMemberAreReportedAndTheRestIndexed() throws {
        let (w, flat, shards) = try Self.fixture("tar-damaged")
        let a = flat.appendingPathComponent("a")
        let names = try FileManager.default.contentsOfDirectory(atPath: a.path).filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }.sorted()
        try Data("not a picture at all".utf8).write(to: a.appendingPathComponent("junk.jpg"))
        try Self.tar(shards.appendingPathComponent("a.tar"), from: a, members: ["junk.jpg"] + names, captions: false)
        // b.tar cut in the middle: its first members stand.
        let bPath = shards.appendingPathComponent("b.tar").path
        let whole = try #require(FileManager.default.contents(atPath: bPath))
        try whole.prefix(whole.count / 2 + 100).write(to: URL(fileURLWithPath: bPath))
        let (run, j) = try Self.index([shards.path, "--model", w.model])
        #expect(run.status == 0, "\(run.all)")  // as for bad files in a folder: warned, the rest indexed, exit 0
        #expect(run.stderr.contains("warning: b.tar: truncated inside"), "\(run.stderr)")
        #expect(run.stderr.contains("a.tar/junk.jpg"), "\(run.stderr)")
        let rows = j["rows"] as? Int ?? 0
        #expect(rows > 24 && rows < 48, "\(run.stdout)")
        #expect((j["damagedShards"] as? [[String: Any]])?.first?["path"] as? String == "b.tar", "\(run.stdout)")
        // Known-bad members are not tried again on an unchanged re-run.
        let (again, ja) = try Self.index([shards.path])
        #expect(again.status == 0 && ja["encoded"] as? Int == 0 && ja["wrote"] as? Bool == false, "\(again.all)")
    }

    @Test func theServerReadsAMembersThumbnailFromItsShard() throws {
        let (w, _, shards) = try Self.fixture("tar-serve")
        #expect(try Self.index([shards.path, "--model", w.model]).0.status == 0)
        let server = Process()
        server.executableURL = CommandLineTool.binary
        server.arguments = ["serve", shards.path, "--port", "0"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var bytes: [UInt8] = []
        while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != 10 { bytes.append(byte) }
        let firstLine = String(decoding: bytes, as: UTF8.self)
        let port = try #require(firstLine.range(of: #"127\.0\.0\.1:\d+"#, options: .regularExpression)
            .map { firstLine[$0].split(separator: ":").last.map(String.init) ?? "" }, "no URL in \(firstLine)")
        let record = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/curl"), ["-sf", "http://127.0.0.1:\(port)/api/images/5"])
        #expect(record.stdout.contains(".tar\\/") || record.stdout.contains(".tar/"), "\(record.all)")
        let file = shards.appendingPathComponent("thumb.jpg")
        let got = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/curl"),
                                          ["-sf", "-o", file.path, "http://127.0.0.1:\(port)/api/images/5/thumbnail?size=64"])
        #expect(got.status == 0, "\(got.all)")
        let picture = try RGBImage(decoding: try Data(contentsOf: file))
        #expect(picture.width > 0 && picture.height > 0)
    }

    @Test func shardedIndexOverTarsAnswersAsOneIndex() throws {
        let (w, _, shards) = try Self.fixture("tar-sharded")
        let one = shards.appendingPathComponent("one/index.rtrv")
        #expect(try Self.index([shards.path, "--model", w.model, "--index", one.path]).0.status == 0)
        let manifest = shards.appendingPathComponent("two/index.json")
        let (run, _) = try Self.index([shards.path, "--model", w.model, "--index", manifest.path, "--shards", "2"])
        #expect(run.status == 0, "\(run.all)")
        #expect(try Self.answers(manifest) == Self.answers(one))
        // Ranks searching their own shards hand rank 0 where each member's bytes are: its
        // --grid draws the members' pictures as one process does, not grey tiles.
        let alone = shards.appendingPathComponent("alone.png"), ranks = shards.appendingPathComponent("ranks.png")
        let query = ["query", "a red circle", "--index", manifest.path, "-k", "6", "--threads", "1", "--grid"]
        let single = try CommandLineTool.run(query + [alone.path])
        let job = try CommandLineTool.mpirun(ranks: 2, query + [ranks.path])
        #expect(single.status == 0 && job.status == 0, "\(single.all)\n\(job.all)")
        let drawn = try RGBImage(contentsOf: alone)
        #expect(try RGBImage(contentsOf: ranks) == drawn)
        #expect(Set(drawn.pixels).count > 16, "the one-process grid is blank")
    }
}
