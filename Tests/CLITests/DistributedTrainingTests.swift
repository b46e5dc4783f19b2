// `mpirun -np 2 retrieve train …` under OpenMPI's real launcher trains the model one process
// trains on the same global batches: the same loss at every step and the same final weights, up
// to rounding. Rounding differs because each rank forwards half the batch (other GEMM shapes and
// blockings), runs one thread instead of two, and the gradient is the sum of two partial sums
// instead of one; AdamW divides by √v, so a parameter whose gradient is near zero may move by a
// rounding's worth more or less. Hence the bounds: every step's loss within 1e-4 (of about 3),
// the weights within 1e-5 of their norm overall and 1e-3 in any one value (one step moves a value
// by at most the learning rate, 2e-3). A run that lost a rank's rows or averaged instead of
// summing the gradients misses these by orders of magnitude. Both architectures: without batch
// norm, and with it (synchronised: a rank normalising by its own 8 rows' statistics is a loss
// 0.02 away at the first step and 0.6 later, docs/distributed.md).
import Foundation
import Neural
import Testing

@Suite(.serialized)
struct DistributedTrainingTests {
    static let run = ["--epochs", "2", "--image-size", "32", "--batch", "16", "--log-every", "1", "--json"]

    @Test(arguments: ["none", "batch"])
    func twoRanksTrainTheModelOneProcessTrains(norm normalization: String) throws {
        let folder = try CommandLineTool.folder("distributed-\(normalization)")
        let synth = try CommandLineTool.run(["synth", "--out", folder.appendingPathComponent("shapes").path,
                                             "--count", "64", "--size", "32"])
        #expect(synth.status == 0, "\(synth.all)")
        let captions = folder.appendingPathComponent("shapes/captions.tsv").path
        let one = folder.appendingPathComponent("one.safetensors"), two = folder.appendingPathComponent("two.safetensors")
        let settings = Self.run + ["--norm", normalization]
        let single = try CommandLineTool.run(["train", "--data", captions, "--out", one.path] + settings)
        #expect(single.status == 0, "\(single.all)")
        let job = try CommandLineTool.mpirun(ranks: 2, ["train", "--data", captions, "--out", two.path] + settings)
        #expect(job.status == 0, "\(job.all)")
        #expect(job.stderr.contains("distributed: 2 ranks"), "the job did not run as two ranks: \(job.stderr)")
        #expect(job.stderr.contains("batch norm synchronised") == (normalization == "batch"), "\(job.stderr)")
        // The word and n-gram tables send only the rows some rank touched, not the whole table
        // (which is most of the model's bytes).
        let sent = job.stderr.firstMatch(of: #/([0-9.]+) MB sent per step/#).flatMap { Double($0.1) }
        let modelBytes = try FileManager.default.attributesOfItem(atPath: one.path)[.size] as? Int ?? 0
        #expect(sent.map { $0 * 1e6 < 0.5 * Double(modelBytes) } == true,
                "sent \(sent.map { "\($0) MB" } ?? "nothing") per step for a model of \(modelBytes) bytes")
        // One summary: the second rank prints nothing.
        let lines = job.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(job.stdout)")
        #expect((try JSON.object(String(lines.first ?? "")))["outcome"] as? String == "completed")

        let a = try Self.losses(one), b = try Self.losses(two)
        #expect(a.count >= 6 && a.map(\.step) == b.map(\.step), "steps \(a.map(\.step)) vs \(b.map(\.step))")
        for (x, y) in zip(a, b) {
            #expect(abs(x.loss - y.loss) <= 1e-4, "step \(x.step): loss \(x.loss) alone, \(y.loss) over two ranks")
        }
        // The monitor judges the whole batch's scores, which no rank holds: each adds up its rows.
        let fa = try Self.scoreFigures(one), fb = try Self.scoreFigures(two)
        #expect(fa.count == a.count && fb.count == a.count && fa.first?.count == 6, "\(fa.first ?? [:])")
        for (x, y) in zip(fa, fb) {
            for (name, value) in x {
                #expect(y[name].map { abs($0 - value) <= 1e-4 } == true, "\(name): \(value) alone, \(y[name] ?? .nan) over two ranks")
            }
        }
        let wa = try Safetensors.read(contentsOf: Self.last(one)).tensors
        let wb = try Safetensors.read(contentsOf: Self.last(two)).tensors
        #expect(wa.keys.sorted() == wb.keys.sorted())
        var difference = 0.0, norm = 0.0, largest: (name: String, gap: Float) = ("", 0)
        for (name, t) in wa {
            guard let u = wb[name], u.shape == t.shape else { Issue.record("\(name) differs in shape"); continue }
            for (x, y) in zip(t.data, u.data) {
                difference += Double(x - y) * Double(x - y)
                norm += Double(x) * Double(x)
                if abs(x - y) > largest.gap { largest = (name, abs(x - y)) }
            }
        }
        #expect((difference / norm).squareRoot() <= 1e-5, "weights differ by \((difference / norm).squareRoot()) of their norm")
        #expect(largest.gap <= 1e-3, "\(largest.name) differs by \(largest.gap)")
        #expect(norm > 0)
    }

    @Test func aRunSavedByOneProcessResumesOnTwoRanks() throws {
        // One epoch alone, then the second epoch resumed twice from the same saved state: alone
        // and over two ranks. The state holds no rank count; the two ends agree as above.
        let folder = try CommandLineTool.folder("distributed-resume")
        _ = try CommandLineTool.run(["synth", "--out", folder.path, "--count", "64", "--size", "32"])
        let captions = folder.appendingPathComponent("captions.tsv").path
        let settings = ["--image-size", "32", "--batch", "16", "--norm", "none", "--log-every", "1"]
        let alone = folder.appendingPathComponent("alone.safetensors"), two = folder.appendingPathComponent("two.safetensors")
        let first = try CommandLineTool.run(["train", "--data", captions, "--out", alone.path, "--epochs", "1"] + settings)
        #expect(first.status == 0, "\(first.all)")
        for suffix in ["safetensors", "last.safetensors", "state.safetensors", "metrics.jsonl"] {
            try FileManager.default.copyItem(at: alone.deletingPathExtension().appendingPathExtension(suffix),
                                             to: two.deletingPathExtension().appendingPathExtension(suffix))
        }
        let resumed = try CommandLineTool.run(["train", "--data", captions, "--out", alone.path, "--epochs", "2", "--resume"] + settings)
        let job = try CommandLineTool.mpirun(ranks: 2, ["train", "--data", captions, "--out", two.path, "--epochs", "2", "--resume"] + settings)
        #expect(resumed.status == 0 && job.status == 0, "\(resumed.all)\n\(job.all)")
        #expect(job.stderr.contains("resuming at step") && job.stderr.contains("distributed: 2 ranks"), "\(job.stderr)")
        let a = try Self.losses(alone), b = try Self.losses(two)
        #expect(a.count == b.count && a.count > 3)
        for (x, y) in zip(a, b) { #expect(abs(x.loss - y.loss) <= 1e-4, "step \(x.step): \(x.loss) vs \(y.loss)") }
        let wa = try Safetensors.read(contentsOf: Self.last(alone)).tensors, wb = try Safetensors.read(contentsOf: Self.last(two)).tensors
        let gap = wa.map { name, t in zip(t.data, wb[name]?.data ?? []).map { abs($0 - $1) }.max() ?? .infinity }.max() ?? .infinity
        #expect(gap <= 1e-3, "weights differ by up to \(gap)")
    }

    @Test func aSignalToMpirunSavesAStateThatResumes() throws {
        // mpirun's own Ctrl-C kills the ranks within a second; SIGUSR1 it forwards to every rank,
        // which agree to stop after the step, save, and exit 130 as one process would.
        let folder = try CommandLineTool.folder("distributed-signal")
        _ = try CommandLineTool.run(["synth", "--out", folder.path, "--count", "64", "--size", "32"])
        let model = folder.appendingPathComponent("m.safetensors")
        let arguments = ["train", "--data", folder.appendingPathComponent("captions.tsv").path, "--out", model.path,
                         "--epochs", "40", "--image-size", "32", "--batch", "16", "--norm", "none", "--log-every", "1"]
        let running = try RunningTool.start(arguments, ranks: 2)
        let deadline = Date().addingTimeInterval(120)
        while !running.stderrSoFar.contains("epoch 2:") && running.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(running.process.processIdentifier, SIGUSR1)
        let out = running.wait()
        #expect(out.status == 130, "\(out.all)")
        #expect(out.stderr.contains("interrupted by SIGUSR1: saving a resumable state"), "\(out.stderr)")
        let stopped = try #require(out.stdout.firstMatch(of: #/interrupted at step (\d+)/#).map { Int($0.output.1)! }, "\(out.all)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.state.safetensors").path))
        let resumed = try CommandLineTool.run(arguments + ["--resume"])
        #expect(resumed.stderr.contains("resuming at step \(stopped) of"), "\(resumed.all)")
    }

    @Test func aRankKilledOutrightEndsTheJobAndItsLastSavedStateResumes() throws {
        // SIGKILL leaves a rank no step to finish: mpirun must end the job rather than leave the
        // other rank waiting in a collective, and the state saved within the epoch (--save-every)
        // must resume, whatever moment the kill fell on (it is written to a temporary name and
        // renamed).
        let folder = try CommandLineTool.folder("distributed-kill")
        _ = try CommandLineTool.run(["synth", "--out", folder.path, "--count", "480", "--size", "32"])
        let model = folder.appendingPathComponent("m.safetensors")
        let state = folder.appendingPathComponent("m.state.safetensors").path
        let arguments = ["train", "--data", folder.appendingPathComponent("captions.tsv").path, "--out", model.path,
                         "--image-size", "32", "--batch", "16", "--norm", "none", "--log-every", "1"]
        // About 27 steps an epoch; a save every 60 ms: killed after the first save, within epoch 1,
        // so only --save-every can have left a state to resume.
        let running = try RunningTool.start(arguments + ["--epochs", "100", "--save-every", "0.001"], ranks: 2)
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: state) && running.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let ranks = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/pgrep"), ["-P", "\(running.process.processIdentifier)", "retrieve"])
        let rank = try #require(ranks.stdout.split(separator: "\n").last.flatMap { Int32($0) }, "no rank under mpirun: \(ranks.all)")
        kill(rank, SIGKILL)
        let ended = Date().addingTimeInterval(60)
        while running.process.isRunning && Date() < ended { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!running.process.isRunning, "the job still runs a minute after a rank was killed")
        if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) }
        let out = running.wait()
        #expect(out.status != 0, "\(out.all)")
        #expect(FileManager.default.fileExists(atPath: state))
        #expect(!out.stderr.contains("epoch 1:"), "killed after epoch 1, where the state is saved anyway: \(out.stderr)")
        let resumed = try CommandLineTool.run(arguments + ["--epochs", "2", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("resuming at step"), "\(resumed.all)")
    }

    @Test func anErrorOnTheRanksEndsTheJobWithItsLine() throws {
        // Both ranks start MPI, then find one picture: the job ends with the error, not a hang.
        let folder = try CommandLineTool.folder("distributed-error")
        _ = try CommandLineTool.run(["synth", "--out", folder.path, "--count", "8", "--size", "32"])
        let captions = try String(contentsOf: folder.appendingPathComponent("captions.tsv"), encoding: .utf8)
        let one = folder.appendingPathComponent("one.tsv")
        try Data((captions.split(separator: "\n").first.map { $0 + "\n" } ?? "").utf8).write(to: one)
        let job = try CommandLineTool.mpirun(ranks: 2, ["train", "--data", one.path, "--out", folder.appendingPathComponent("m.safetensors").path,
                                                        "--image-size", "32"])
        #expect(job.status == 1, "\(job.all)")
        #expect(job.stderr.contains("error: \(one.path): only one training picture could be read"), "\(job.stderr)")
    }

    static func last(_ model: URL) -> URL {
        model.deletingPathExtension().appendingPathExtension("last.safetensors")
    }

    /// The loss of every logged step, in order, from the run's metrics file.
    /// Each step's figures of the batch's scores, as the monitor logged them.
    static func scoreFigures(_ model: URL) throws -> [[String: Double]] {
        let metrics = model.deletingPathExtension().appendingPathExtension("metrics.jsonl")
        return try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").compactMap { line in
            let record = try JSON.object(String(line))
            guard record["kind"] as? String == "step", let monitor = record["monitor"] as? [String: Any] else { return nil }
            let names = ["pos_cos", "neg_cos", "score_std", "batch_top1", "batch_top1_chance", "chance_loss"]
            return Dictionary(uniqueKeysWithValues: names.compactMap { name in (monitor[name] as? Double).map { (name, $0) } })
        }
    }

    static func losses(_ model: URL) throws -> [(step: Int, loss: Double)] {
        let metrics = model.deletingPathExtension().appendingPathExtension("metrics.jsonl")
        return try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").compactMap { line in
            let record = try JSON.object(String(line))
            guard record["kind"] as? String == "step", let step = record["step"] as? Int, let loss = record["loss"] as? Double else { return nil }
            return (step, loss)
        }
    }
}
