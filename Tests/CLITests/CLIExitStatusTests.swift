// Every documented exit status, reached as a user reaches it, with one `error:` line on stderr
// naming the file and the fix: 64 bad flags (also one found inside run), 1 unusable data, 2 no
// known word, 3 another model, 4 a damaged index or model (and the advertised fix works), and
// damaged JPEGs named, skipped, or kept with --keep-damaged.
import Foundation
import Testing

@Suite(.serialized)
struct CLIExitStatusTests {
    /// Checks the run failed with `status` and one `error:` line containing `message`.
    static func expectFailure(_ out: CommandLineTool.Output, _ status: Int32, _ message: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(out.status == status, "\(out.all)", sourceLocation: sourceLocation)
        let errors = out.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1 && errors[0].contains(message), "\(out.stderr)", sourceLocation: sourceLocation)
        #expect(!out.stderr.contains("Error:"), sourceLocation: sourceLocation)
    }

    @Test func badFlagsExit64() throws {
        let w = try CLIWorkspace.get()
        Self.expectFailure(try CommandLineTool.run(["train", "--data", w.captions, "--out", "/tmp/x.safetensors", "--epochs", "0"]),
                           64, "epochs must be at least 1")
        Self.expectFailure(try CommandLineTool.run(["query", "-k", "0", "red"]), 64, "-k must be positive")
        Self.expectFailure(try CommandLineTool.run(["index", w.images.path, "--no-such-flag"]), 64, "Unknown option")
        // Found only while running: an empty --queries file.
        let empty = w.root.appendingPathComponent("empty.txt")
        try "\n\n".write(to: empty, atomically: true, encoding: .utf8)
        Self.expectFailure(try CommandLineTool.run(["query", "--queries", empty.path], in: w.images), 64, "holds no queries")
    }

    @Test func unusableDataExits1() throws {
        let w = try CLIWorkspace.get()
        let dir = try CommandLineTool.folder("unusable")
        // One readable picture, one text file named .png: nothing to train on, nothing written.
        let png = w.images.appendingPathComponent("00000.png").path
        try "not a picture".write(to: dir.appendingPathComponent("fake.png"), atomically: true, encoding: .utf8)
        let captions = dir.appendingPathComponent("captions.tsv")
        try "\(png)\ta red circle\nfake.png\ta blue square\n".write(to: captions, atomically: true, encoding: .utf8)
        // Both in training (split.tsv beside the captions), none in test.
        let split = dir.appendingPathComponent("split.tsv")
        try "\(png)\ttrain\nfake.png\ttrain\n".write(to: split, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.safetensors")
        let train = try CommandLineTool.run(["train", "--data", captions.path, "--out", model.path] + CLIWorkspace.quick)
        Self.expectFailure(train, 1, "\(captions.path): only one training picture could be read")
        #expect(train.stdout.isEmpty && !FileManager.default.fileExists(atPath: model.path))
        #expect(train.stderr.contains("fake.png: not a PNG or JPEG image"), "\(train.stderr)")
        // A part of the split with no pictures.
        let eval = try CommandLineTool.run(["eval", "--model", w.model, "--data", captions.path, "--on", "test"])
        Self.expectFailure(eval, 1, "no readable pictures in the test part (choose another with --on")
        #expect(eval.stdout.isEmpty)
        // No index anywhere above.
        Self.expectFailure(try CommandLineTool.run(["query", "red"], in: dir), 1, "no index here or in any folder above")
    }

    @Test func queriesWithoutAKnownWordExit2() throws {
        let w = try CLIWorkspace.get()
        Self.expectFailure(try CommandLineTool.run(["query", "zebra giraffe"], in: w.images), 2, "the model knows none of its words")
        Self.expectFailure(try CommandLineTool.run(["query", "a zebra"], in: w.images), 2, "the model knows only \"a\"")
    }

    @Test func anotherModelExits3() throws {
        let w = try CLIWorkspace.get()
        let dir = try CommandLineTool.folder("other-model")
        let other = dir.appendingPathComponent("other.safetensors").path
        let train = try CommandLineTool.run(["train", "--data", w.captions, "--out", other, "--epochs", "1", "--seed", "7"] + CLIWorkspace.quick)
        #expect(train.status == 0, "\(train.all)")
        Self.expectFailure(try CommandLineTool.run(["query", "a red circle", "--model", other], in: w.images), 3,
                           "is not that of the model")
    }

    @Test func aDamagedIndexExits4AndTheFixItNamesWorks() throws {
        let images = try CLIWorkspace.get().copyOfImages("damaged-index")
        let indexFile = images.appendingPathComponent(".retrieve/index.rtrv")
        var bytes = [UInt8](try Data(contentsOf: indexFile))
        bytes[256 + 1000] ^= 0x04  // inside the rows
        try Data(bytes).write(to: indexFile)
        let query = try CommandLineTool.run(["query", "a red circle"], in: images)
        Self.expectFailure(query, 4, "\(indexFile.path): the embedding rows are damaged")
        #expect(query.stdout.isEmpty, "nothing damaged is served: \(query.stdout)")
        let fix = "retrieve index \(images.standardizedFileURL.path)"
        #expect(query.stderr.contains("(rebuild it: \(fix))"), "\(query.stderr)")
        let rebuild = try CommandLineTool.run(["index", images.path])
        #expect(rebuild.status == 0 && rebuild.stderr.contains("previous index not used"), "\(rebuild.all)")
        #expect(try CommandLineTool.run(["query", "a red circle"], in: images).status == 0)
        let verify = try CommandLineTool.run(["index", images.path, "--verify"])
        #expect(verify.status == 0 && verify.stdout.contains("every checksum verified"), "\(verify.all)")
    }

    @Test func aDamagedModelExits4() throws {
        let w = try CLIWorkspace.get()
        let copy = try CommandLineTool.folder("damaged-model").appendingPathComponent("m.safetensors")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: w.model)))
        bytes[bytes.count - 4000] ^= 0x20
        try Data(bytes).write(to: copy)
        Self.expectFailure(try CommandLineTool.run(["eval", "--model", copy.path, "--data", w.captions]), 4,
                           "\(copy.path): damaged: its configuration, vocabulary or weights do not match the fingerprint")
    }

    @Test func aDamagedJPEGIsNamedAndSkippedOrKeptOnRequest() throws {
        let w = try CLIWorkspace.get()
        let images = try w.copyOfImages("damaged-jpeg")
        // A 256-px picture as JPEG with 200 bytes of its compressed data scrambled.
        let big = try CommandLineTool.folder("big")
        let synth = try CommandLineTool.run(["synth", "--out", big.path, "--count", "3", "--size", "256"])
        #expect(synth.status == 0, "\(synth.all)")
        var jpeg = [UInt8](try Data(contentsOf: big.appendingPathComponent("images/00002.jpg")))
        let sos = (2..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA }!
        let start = sos + 2 + Int(jpeg[sos + 2]) << 8 + Int(jpeg[sos + 3]), middle = (start + jpeg.count) / 2 - 100
        var state: UInt64 = 99
        for i in middle..<(middle + 200) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            jpeg[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(jpeg).write(to: images.appendingPathComponent("damaged.jpg"))

        let skipped = try CommandLineTool.run(["index", images.path, "--json"])
        #expect(skipped.status == 0, "\(skipped.all)")
        #expect(skipped.stderr.contains("damaged.jpg: damaged JPEG: part of the picture had to be guessed (corrupt JPEG data"), "\(skipped.stderr)")
        let summary = try JSON.object(skipped.stdout)
        #expect((summary["rows"] as? Int) == 48 && (summary["skipped"] as? [[String: Any]])?.first?["path"] as? String == "damaged.jpg")
        let kept = try CommandLineTool.run(["index", images.path, "--keep-damaged", "--json"])
        let keptSummary = try JSON.object(kept.stdout)
        #expect(kept.status == 0 && (keptSummary["rows"] as? Int) == 49, "\(kept.all)")
        #expect((keptSummary["damaged"] as? [[String: Any]])?.first?["path"] as? String == "damaged.jpg")
        #expect(kept.stderr.contains("1 damaged picture indexed anyway (--keep-damaged)"), "\(kept.stderr)")

        // Training and evaluation apply the same rule to a captions file naming it.
        let captions = images.deletingLastPathComponent().appendingPathComponent("captions.tsv")
        let lines = try String(contentsOfFile: w.captions, encoding: .utf8)
        try (lines + "images/damaged.jpg\ta large red circle on a plain background\n").write(to: captions, atomically: true, encoding: .utf8)
        let eval = try CommandLineTool.run(["eval", "--model", w.model, "--data", captions.path, "--json"])
        #expect(eval.status == 0, "\(eval.all)")
        #expect((try JSON.object(eval.stdout)["images"] as? Int) == 48, "\(eval.stdout)")
        #expect(eval.stderr.contains("1 picture skipped (1 damaged: --keep-damaged uses those anyway)"), "\(eval.stderr)")
    }
}
