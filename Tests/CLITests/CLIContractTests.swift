// Each subcommand's happy path on tiny generated data, as a script uses it: exit 0, --json
// parsed and checked against the shape its --help documents (numbers as numbers, slashes not
// escaped, paths that exist), and the human output counting nouns right ("1 picture").
import Foundation
import Testing

@Suite(.serialized)
struct CLIContractTests {
    @Test func synthTrainEvalIndexQueryAndDoctorEachDoWhatTheySay() throws {
        let w = try CLIWorkspace.get()
        // synth --json: {"directory", "captions", "split", "images": number}
        #expect(w.synth.status == 0, "\(w.synth.all)")
        #expect(!w.synth.stdout.contains("\\/"), "escaped slashes: \(w.synth.stdout)")
        let synth = try JSON.object(w.synth.stdout)
        #expect(Set(synth.keys) == ["directory", "captions", "split", "images"])
        #expect(JSON.isNumber(synth["images"]) && (synth["images"] as? Int) == 48, "\(w.synth.stdout)")
        #expect(FileManager.default.fileExists(atPath: synth["split"] as? String ?? ""))

        // train --json: the documented summary; the files it names exist.
        #expect(w.train.status == 0, "\(w.train.all)")
        let train = try JSON.object(w.train.stdout)
        #expect(Set(train.keys).isSuperset(of: ["outcome", "steps", "seconds", "model", "last", "state", "metrics", "report", "alarms", "verdict"]),
                "\(train.keys.sorted())")
        #expect(train["outcome"] as? String == "completed" && train["collapsedMode"] == nil)
        #expect(JSON.isNumber(train["steps"]) && JSON.isNumber(train["seconds"]))
        for key in ["model", "last", "state", "metrics", "report"] {
            #expect(FileManager.default.fileExists(atPath: train[key] as? String ?? "/nonexistent"), "\(key)")
        }
        #expect(!w.train.stdout.contains("\\/"))

        // eval --json: {"t2i": {"R@1", "R@5", "R@10", "medr"}, "i2t": {…}, "images", "captions"}
        let eval = try CommandLineTool.run(["eval", "--model", w.model, "--data", w.captions, "--json"])
        #expect(eval.status == 0, "\(eval.all)")
        let report = try JSON.object(eval.stdout)
        #expect((report["images"] as? Int) == 48 && (report["captions"] as? Int) == 96)
        for direction in ["t2i", "i2t"] {
            let r = report[direction] as? [String: Any] ?? [:]
            #expect(["R@1", "R@5", "R@10", "medr"].allSatisfy { JSON.isNumber(r[$0]) }, "\(direction): \(r)")
        }
        let evalText = try CommandLineTool.run(["eval", "--model", w.model, "--data", w.captions, "--on", "test"])
        #expect(evalText.status == 0 && evalText.stdout.contains(" pictures, ") && evalText.stdout.contains("text→image"), "\(evalText.all)")

        // index --json: the documented summary.
        #expect(w.index.status == 0, "\(w.index.all)")
        let index = try JSON.object(w.index.stdout)
        #expect(Set(index.keys) == ["index", "rows", "storage", "added", "changed", "removed", "unchanged", "encoded",
                                    "undecodable", "skipped", "damaged", "nonImages", "damagedShards", "modelChanged", "wrote", "seconds",
                                    "imagesPerSecond"], "\(index.keys.sorted())")
        #expect((index["rows"] as? Int) == 48 && (index["added"] as? Int) == 48 && JSON.isBool(index["wrote"]))
        #expect((index["skipped"] as? [Any])?.isEmpty == true && !w.index.stdout.contains("\\/"))
        let again = try CommandLineTool.run(["index", w.images.path])
        #expect(again.status == 0 && again.stdout.contains("48 pictures indexed") && again.stdout.contains("is up to date"), "\(again.all)")

        // query --json from inside the folder: [{"path", "score", "likelihood"}], best first, paths that exist
        // (--all: every one of the k, however unlikely; CLILikelihoodTests have the cut-off).
        let query = try CommandLineTool.run(["query", "a red circle", "-k", "3", "--all", "--json"], in: w.images)
        #expect(query.status == 0, "\(query.all)")
        let hits = try JSON.parse(query.stdout) as? [[String: Any]] ?? []
        #expect(hits.count == 3)
        for hit in hits {
            #expect(Set(hit.keys) == ["path", "score", "likelihood"] && JSON.isNumber(hit["score"]) && JSON.isNumber(hit["likelihood"]))
            #expect(FileManager.default.fileExists(atPath: w.images.appendingPathComponent(hit["path"] as? String ?? "").path))
        }
        let scores = hits.compactMap { $0["score"] as? Double }
        #expect(scores == scores.sorted(by: >))
        let text = try CommandLineTool.run(["query", "a red circle", "-k", "1", "--all"], in: w.images)
        #expect(text.status == 0 && text.stdout.hasPrefix("1   "), "\(text.all)")

        // doctor --json on the run's metrics.
        let doctor = try CommandLineTool.run(["doctor", w.root.appendingPathComponent("model.metrics.jsonl").path, "--json"])
        #expect(doctor.status == 0, "\(doctor.all)")
        let diagnosis = try JSON.object(doctor.stdout)
        #expect(Set(diagnosis.keys).isSuperset(of: ["states", "replayed_alarms", "recorded_alarms", "loss", "steps", "stride", "last_step"]),
                "\(diagnosis.keys.sorted())")

        for out in [w.synth, w.train, w.index, eval, evalText, again, query, text, doctor] {
            #expect(out.all.range(of: #"\b1 (pictures|captions|rows|lines|alarms|epochs|files)\b"#, options: .regularExpression) == nil,
                    "\(out.all)")
        }
    }

    @Test func aBatchAnswersEveryLineItCanAndNamesTheOthers() throws {
        let w = try CLIWorkspace.get()
        let file = w.root.appendingPathComponent("questions.txt")
        try "a red circle\nzebra giraffe\n\na zebra\na blue square\n".write(to: file, atomically: true, encoding: .utf8)
        let out = try CommandLineTool.run(["query", "--queries", file.path, "-k", "2", "--all", "--json"], in: w.images)
        #expect(out.status == 2, "\(out.all)")
        let answers = try JSON.parse(out.stdout) as? [[Any]] ?? []
        #expect(answers.map(\.count) == [2, 0, 0, 2], "\(out.stdout)")
        #expect(out.stderr.contains("error: \(file.path):2: query \"zebra giraffe\": the model knows none of its words"), "\(out.stderr)")
        #expect(out.stderr.contains("error: \(file.path):3: query \"a zebra\": the model knows only \"a\", not zebra"), "\(out.stderr)")
        #expect(out.stderr.contains("2 lines of 4 not searched"))
        // One unknown word beside known ones: searched, with a warning naming it.
        let partly = try CommandLineTool.run(["query", "a red zebra circle", "-k", "1"], in: w.images)
        #expect(partly.status == 0 && partly.stderr.contains("the model does not know \"zebra\""), "\(partly.all)")
    }
}
