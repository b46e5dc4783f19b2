// `retrieve train` on real pictures that cannot be learned, as a user runs it: the data check
// refuses a set of one picture before any training (exit 1, nothing written), and with
// `--on-collapse stop` a run that learns nothing stops with exit 3 and names the cause. A short
// healthy run's summary, metrics and `retrieve doctor` say which modes were not judged, and a
// hinge run records its loss so `doctor` needs no flag.
import Foundation
import Testing

@Suite(.serialized)
struct TrainMonitorTests {
    /// A small model and a short run: 32-px pictures, batch 64 (15 steps an epoch on the icons).
    static let quick = ["--image-size", "32", "--batch", "64", "--log-every", "1"]

    @Test func captionsShuffledAgainstTheirPicturesStopWithLearnedNothing() throws {
        let folder = try CommandLineTool.folder("shuffled")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pairs = try Icons.pairs()
        // Captions dealt to pictures in a random order (a shift would keep each caption near its
        // own category, which is learnable).
        var order = Array(pairs.indices), state: UInt64 = 7
        for i in order.indices.reversed() where i > 0 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            order.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
        }
        let shuffled = pairs.indices.map { (pairs[$0].path, pairs[order[$0]].caption) }
        let data = try Icons.write(shuffled, to: folder)
        let out = try CommandLineTool.run(["train", "--data", data, "--out", folder.appendingPathComponent("m.safetensors").path,
                                           "--epochs", "3", "--on-collapse", "stop"] + Self.quick)
        // Validation at chance is named, or the flat scores that come with it stop the run first
        // (then the cure names the pairing).
        #expect(out.status == 3, "\(out.all)")
        #expect(out.stderr.contains("learned nothing: validation recall is no better than a random ranking")
                || out.stderr.contains("captions not paired with their own pictures"), "\(out.stderr)")
        #expect(["COLLAPSE: learned nothing", "COLLAPSE: similarity collapse"].contains { out.stderr.contains($0) }, "\(out.stderr)")
        #expect(out.stdout.contains("stopped at step"), "\(out.stdout)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.state.safetensors").path))
    }

    @Test func onePictureUnderEveryCaptionIsRefusedBeforeTraining() throws {
        let folder = try CommandLineTool.folder("one-picture")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pairs = Array(try Icons.pairs().prefix(400))
        var copies: [(String, String)] = []
        for (i, pair) in pairs.enumerated() {
            let copy = folder.appendingPathComponent("\(i).png")
            try FileManager.default.copyItem(at: URL(fileURLWithPath: pairs[0].path), to: copy)
            copies.append((copy.path, pair.caption))
        }
        let data = try Icons.write(copies, to: folder)
        let model = folder.appendingPathComponent("m.safetensors").path
        let refused = try CommandLineTool.run(["train", "--data", data, "--out", model, "--epochs", "3"] + Self.quick)
        #expect(refused.status == 1, "\(refused.all)")
        #expect(refused.stderr.contains("distinct picture: nothing can be learned from them (--force trains anyway)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model), "nothing is written for data that cannot be learned")

        // Trained anyway for 48 steps (6 an epoch): the scores go flat, and that stops it.
        let forced = try CommandLineTool.run(["train", "--data", data, "--out", model, "--epochs", "8", "--force",
                                              "--on-collapse", "stop"] + Self.quick)
        #expect(forced.status == 3, "\(forced.all)")
        #expect(forced.stderr.contains("warning: \(data): the ") && forced.stderr.contains(" training pictures are 1 distinct picture"), "\(forced.stderr)")
        // Augmented copies of one picture differ only a little: they flatten the scores, fall on a
        // line, or rank at chance, whichever shows first.
        #expect(["similarity collapse", "embedding collapse: the image tower", "dimensional collapse", "learned nothing"]
            .contains { forced.stderr.contains("COLLAPSE: \($0)") }, "\(forced.stderr)")
    }

    @Test func anAbsurdLearningRateStopsNamingTheCollapse() throws {
        let folder = try CommandLineTool.folder("lr")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Icons.write(try Icons.pairs(), to: folder)
        let out = try CommandLineTool.run(["train", "--data", data, "--out", folder.appendingPathComponent("m.safetensors").path,
                                           "--epochs", "3", "--lr", "0.9", "--on-collapse", "stop"] + Self.quick)
        #expect(out.status == 3, "\(out.all)")
        #expect(["similarity collapse", "temperature runaway", "dimensional collapse", "learned nothing"]
            .contains { out.stderr.contains("COLLAPSE: \($0)") }, "\(out.stderr)")
    }

    @Test func aRunTooShortToJudgeSaysNotJudgedEverywhere() throws {
        let folder = try CommandLineTool.folder("short")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Icons.write(try Icons.pairs(), to: folder)
        let model = folder.appendingPathComponent("m.safetensors")
        // 6 steps: shorter than any grace, so only the evaluation and finiteness can be judged,
        // and an evaluation still at chance is a warning (too short to learn), not a collapse.
        let out = try CommandLineTool.run(["train", "--data", data, "--out", model.path, "--epochs", "1",
                                           "--image-size", "32", "--batch", "256"])
        #expect(out.status == 0, "\(out.all)")
        #expect(out.stdout.contains("not judged: similarity, embedding, dimensional, temperature"), "\(out.stdout)")
        #expect(out.stdout.contains("monitor verdict: "), "\(out.stdout)")

        let metrics = model.deletingPathExtension().path + ".metrics.jsonl"
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.contains("\"kind\":\"run\"") == true)
        #expect(lines.last?.contains("\"kind\":\"verdict\"") == true && lines.last?.contains("not_judged") == true)
        let doctor = try CommandLineTool.run(["doctor", metrics])
        #expect(doctor.status == 0, "\(doctor.all)")
        #expect(doctor.stdout.contains("similarity          not judged"), "\(doctor.stdout)")
        #expect(!doctor.stdout.contains("similarity          healthy"))
    }

    @Test func aHingeRunRecordsItsLossAndShowsNoTemperature() throws {
        let folder = try CommandLineTool.folder("hinge")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Icons.write(try Icons.pairs(), to: folder)
        let model = folder.appendingPathComponent("m.safetensors")
        let out = try CommandLineTool.run(["train", "--data", data, "--out", model.path, "--epochs", "2",
                                           "--loss", "hinge"] + Self.quick)
        #expect(out.status == 0 || out.status == 3, "\(out.all)")
        #expect(!out.stderr.contains(" T 0."), "a hinge run has no temperature: \(out.stderr.suffix(400))")
        let metrics = model.deletingPathExtension().path + ".metrics.jsonl"
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("\"hinge\":{\"margin\":0.2}"), "\(text.prefix(300))")
        #expect(!text.contains("\"temperature\""))
        let doctor = try CommandLineTool.run(["doctor", metrics])
        // No temperature among the states (advice may still name the N-pair loss's temperature).
        let states = doctor.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(states.contains { $0.hasPrefix("score_scale ") } && !states.contains { $0.hasPrefix("temperature ") }, "\(doctor.stdout)")
    }

    @Test func aSigmoidRunIsJudgedAgainstItsOwnFlatLoss() throws {
        // The sigmoid loss's pinned value moves with its learned bias: the monitor must be handed
        // the bias each step, or it compares the loss with ln B, a figure of another loss.
        let folder = try CommandLineTool.folder("sigmoid")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Icons.write(try Icons.pairs(), to: folder)
        let model = folder.appendingPathComponent("m.safetensors")
        let out = try CommandLineTool.run(["train", "--data", data, "--out", model.path, "--epochs", "1",
                                           "--loss", "sigmoid"] + Self.quick)
        #expect(out.status == 0 || out.status == 3, "\(out.all)")
        let metrics = model.deletingPathExtension().path + ".metrics.jsonl"
        let steps = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").compactMap { line in
            (try? JSON.object(String(line))).flatMap { $0["kind"] as? String == "step" ? $0["monitor"] as? [String: Any] : nil }
        }
        #expect(!steps.isEmpty)
        for figures in steps {
            let bias = try #require(figures["logit_bias"] as? Double, "no logit bias among \(figures.keys.sorted())")
            let chance = try #require(figures["chance_loss"] as? Double)
            let batch = try #require(figures["batch"] as? Int)
            #expect(bias.isFinite && abs(chance - log(Double(batch))) > 0.1,
                    "chance loss \(chance) is ln \(batch), the N-pair loss's, not the sigmoid loss's")
        }
    }
}
