// `retrieve train --data 'shards/{000000..000003}.tar'` as a user runs it: the pixel caches are
// built once (under mpirun each rank builds its own shards) and used again, bad samples and a
// cut shard are reported by shard and member while the rest trains, a run over shards resumes to
// the same losses as one that never stopped, and two ranks train what one process trains.
import Foundation
import Neural
import Testing

@Suite(.serialized)
struct ShardTrainingTests {
    static let settings = ["--image-size", "32", "--batch", "16", "--norm", "none", "--log-every", "1", "--val-fraction", "0.2"]

    /// 64 synthetic pictures packed with the system's tar into four shards of 16 samples, even
    /// shards with .txt captions, odd ones with .json; returns the brace pattern naming them.
    static func shards(in folder: URL) throws -> String {
        let synth = try CommandLineTool.run(["synth", "--out", folder.appendingPathComponent("synth").path, "--count", "64", "--size", "32"])
        #expect(synth.status == 0, "\(synth.all)")
        let lines = try String(contentsOf: folder.appendingPathComponent("synth/captions.tsv"), encoding: .utf8).split(separator: "\n")
        var captions: [(path: String, texts: [String])] = []
        for line in lines {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if captions.last?.path == parts[0] { captions[captions.count - 1].texts.append(parts[1]) } else { captions.append((parts[0], [parts[1]])) }
        }
        let staging = folder.appendingPathComponent("staging"), out = folder.appendingPathComponent("shards")
        for url in [staging, out] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        for shard in 0..<4 {
            var members: [String] = []
            for (path, texts) in captions[(shard * 16)..<(shard * 16 + 16)] {
                let picture = URL(fileURLWithPath: path).lastPathComponent
                let key = URL(fileURLWithPath: picture).deletingPathExtension().lastPathComponent
                try FileManager.default.copyItem(at: folder.appendingPathComponent("synth").appendingPathComponent(path),
                                                 to: staging.appendingPathComponent(picture))
                let caption = shard % 2 == 0 ? key + ".txt" : key + ".json"
                let body = shard % 2 == 0 ? texts.joined(separator: "\n")
                    : String(decoding: try JSONSerialization.data(withJSONObject: ["caption": texts[0]]), as: UTF8.self)
                try Data(body.utf8).write(to: staging.appendingPathComponent(caption))
                members += [picture, caption]
            }
            let tar = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/tar"),
                                              ["-cf", out.appendingPathComponent(String(format: "%06d.tar", shard)).path, "-C", staging.path] + members)
            #expect(tar.status == 0, "\(tar.all)")
        }
        return out.path + "/{000000..000003}.tar"
    }

    @Test func trainsFromShardsBuildingTheCachesOnceAndReportsBadSamples() throws {
        let folder = try CommandLineTool.folder("shards-train")
        let pattern = try Self.shards(in: folder)
        let model = folder.appendingPathComponent("m.safetensors").path
        let first = try CommandLineTool.run(["train", "--data", pattern, "--out", model, "--epochs", "1"] + Self.settings)
        #expect(first.status == 0, "\(first.all)")
        #expect(first.stderr.contains("pixel cache: decoded 4 shards of 4"), "\(first.stderr)")
        #expect(first.stderr.contains(" train / ") && first.stderr.contains(" validation pictures"), "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: model))
        let eval = try CommandLineTool.run(["eval", "--model", model, "--data", pattern, "--on", "val", "--json"])
        #expect(eval.status == 0 && eval.stderr.contains("pixel cache: 4 shards current"), "\(eval.all)")
        #expect((try JSON.object(eval.stdout))["images"] as? Int ?? 0 > 0, "\(eval.stdout)")
        let again = try CommandLineTool.run(["train", "--data", folder.appendingPathComponent("shards").path, "--out", model, "--epochs", "1"] + Self.settings)
        #expect(again.status == 0 && again.stderr.contains("pixel cache: 4 shards current"), "\(again.all)")

        // A fifth shard cut in the middle of a picture, and a sample without a caption.
        let shards = folder.appendingPathComponent("shards")
        var cut = try Data(contentsOf: shards.appendingPathComponent("000001.tar"))
        cut.removeLast(cut.count - 9 * 1024 - 100)
        try cut.write(to: shards.appendingPathComponent("000004.tar"))
        let lonely = folder.appendingPathComponent("lonely")
        try FileManager.default.createDirectory(at: lonely, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("staging/00000.png"), to: lonely.appendingPathComponent("x.png"))
        _ = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/tar"), ["-cf", shards.appendingPathComponent("000005.tar").path, "-C", lonely.path, "x.png"])
        let bad = try CommandLineTool.run(["train", "--data", shards.path + "/{000000..000006}.tar", "--out", model, "--epochs", "1"] + Self.settings)
        #expect(bad.status == 0, "\(bad.all)")
        #expect(bad.stderr.contains("warning: ") && bad.stderr.contains("/000006.tar: no such shard, skipped"), "\(bad.stderr)")
        #expect(bad.stderr.contains("warning: 000004.tar: truncated inside "), "\(bad.stderr)")
        #expect(bad.stderr.contains("warning: 000005.tar: x.png: no caption"), "\(bad.stderr)")
        #expect(bad.stderr.contains("pixel cache: decoded 2 shards of 6"), "\(bad.stderr)")

        let none = try CommandLineTool.run(["train", "--data", shards.path + "/{000007..000009}.tar", "--out", model] + Self.settings)
        #expect(none.status == 1 && none.stderr.contains("no tar shard found"), "\(none.all)")
    }

    @Test func aRunOverShardsResumesToTheLossesOfOneThatNeverStopped() throws {
        // Ctrl-C after the second epoch's evaluation, then --resume: the stream's position (the
        // step and the epoch's order) is in the state, so every loss equals the straight run's.
        let folder = try CommandLineTool.folder("shards-resume")
        let pattern = try Self.shards(in: folder)
        let whole = folder.appendingPathComponent("whole.safetensors"), parts = folder.appendingPathComponent("parts.safetensors")
        let run = ["--epochs", "4"] + Self.settings
        let straight = try CommandLineTool.run(["train", "--data", pattern, "--out", whole.path] + run)
        #expect(straight.status == 0, "\(straight.all)")
        let running = try RunningTool.start(["train", "--data", pattern, "--out", parts.path] + run)
        let deadline = Date().addingTimeInterval(120)
        while !running.stderrSoFar.contains("epoch 2:") && running.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        running.process.interrupt()
        let stopped = running.wait()
        #expect(stopped.status == 130, "\(stopped.all)")
        let resumed = try CommandLineTool.run(["train", "--data", pattern, "--out", parts.path, "--resume"] + run)
        #expect(resumed.status == 0 && resumed.stderr.contains("resuming at step"), "\(resumed.all)")
        let a = try DistributedTrainingTests.losses(whole), b = try DistributedTrainingTests.losses(parts)
        #expect(a.count >= 12 && a.map(\.step) == b.map(\.step), "\(a.map(\.step)) vs \(b.map(\.step))")
        for (x, y) in zip(a, b) { #expect(x.loss == y.loss, "step \(x.step): \(x.loss) straight, \(y.loss) resumed") }
    }

    @Test func twoRanksTrainOverShardsWhatOneProcessTrains() throws {
        let folder = try CommandLineTool.folder("shards-distributed")
        let pattern = try Self.shards(in: folder)
        let one = folder.appendingPathComponent("one.safetensors"), two = folder.appendingPathComponent("two.safetensors")
        let run = ["--epochs", "2"] + Self.settings
        // The job first: its two ranks build two caches each, and the single process then finds all four current.
        let job = try CommandLineTool.mpirun(ranks: 2, ["train", "--data", pattern, "--out", two.path] + run)
        #expect(job.status == 0, "\(job.all)")
        #expect(job.stderr.contains("distributed: 2 ranks") && job.stderr.contains("pixel cache: decoded 2 shards of 2"), "\(job.stderr)")
        let single = try CommandLineTool.run(["train", "--data", pattern, "--out", one.path] + run)
        #expect(single.status == 0 && single.stderr.contains("pixel cache: 4 shards current"), "\(single.all)")

        let a = try DistributedTrainingTests.losses(one), b = try DistributedTrainingTests.losses(two)
        #expect(a.count >= 6 && a.map(\.step) == b.map(\.step), "steps \(a.map(\.step)) vs \(b.map(\.step))")
        for (x, y) in zip(a, b) { #expect(abs(x.loss - y.loss) <= 1e-4, "step \(x.step): loss \(x.loss) alone, \(y.loss) over two ranks") }
        let wa = try Safetensors.read(contentsOf: DistributedTrainingTests.last(one)).tensors
        let wb = try Safetensors.read(contentsOf: DistributedTrainingTests.last(two)).tensors
        var difference = 0.0, norm = 0.0
        for (name, t) in wa {
            guard let u = wb[name], u.shape == t.shape else { Issue.record("\(name) differs in shape"); continue }
            for (x, y) in zip(t.data, u.data) { difference += Double(x - y) * Double(x - y); norm += Double(x) * Double(x) }
        }
        #expect(norm > 0 && (difference / norm).squareRoot() <= 1e-5, "weights differ by \((difference / norm).squareRoot()) of their norm")
    }
}
