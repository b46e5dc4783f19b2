// The likelihood of a match as `retrieve query` and `retrieve eval` show it, run as a user runs
// them: a column and a JSON field (null without a calibration), the list stopping at the cut-off
// with a note saying how many it left out, --all and --min-likelihood, their bad values (exit
// 64), a model file from before calibrations (no likelihood, no cut) and one whose calibration is
// damaged (a warning; the search still answers).
import Foundation
import Testing

struct CLILikelihoodTests {
    @Test func queryShowsTheLikelihoodAndStopsWhereResultsStopBeingLikely() throws {
        let w = try CLIWorkspace.get()
        let every = try CommandLineTool.run(["query", "a red circle", "-k", "6", "--all", "--json"], in: w.images)
        #expect(every.status == 0, "\(every.all)")
        let hits = try JSON.parse(every.stdout) as? [[String: Any]] ?? []
        #expect(hits.count == 6 && hits.allSatisfy { Set($0.keys) == ["path", "score", "likelihood"] })
        let likelihoods = hits.compactMap { $0["likelihood"] as? Double }
        #expect(likelihoods.count == 6 && likelihoods.allSatisfy { $0 > 0 && $0 < 1 } && likelihoods == likelihoods.sorted(by: >),
                "\(likelihoods)")

        // By default: the likely ones only, and a note for the rest.
        let shown = try CommandLineTool.run(["query", "a red circle", "-k", "6", "--json"], in: w.images)
        let kept = try JSON.parse(shown.stdout) as? [[String: Any]] ?? []
        let likely = likelihoods.filter { $0 >= 0.5 }.count
        #expect(kept.count == likely && kept.map { $0["path"] as? String } == hits.prefix(likely).map { $0["path"] as? String })
        #expect(shown.stderr.contains("below 50% likely to match: --all to see them") == (likely < 6), "\(shown.all)")

        // Nothing is ever 100% likely: everything is cut, and said so.
        let none = try CommandLineTool.run(["query", "a red circle", "-k", "4", "--min-likelihood", "1"], in: w.images)
        #expect(none.status == 0, "\(none.all)")
        #expect(none.stdout == "  (no result 100% likely to match)\n", "\(none.stdout)")
        #expect(none.stderr.contains("note: all 4 results are below 100% likely to match: --all to see them"), "\(none.stderr)")

        // Human output: rank, score, likelihood, path.
        let text = try CommandLineTool.run(["query", "a red circle", "-k", "2", "--all"], in: w.images)
        let first = text.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.range(of: #"^1 +-?\d\.\d{4} +(\d{1,2}%|<1%|>99%) +\S+"#, options: .regularExpression) != nil, "\(text.all)")

        // A picture query is not a caption: no likelihood, no cut.
        let picture = try CommandLineTool.run(["query", "--image", "00000.png", "-k", "3", "--json"], in: w.images)
        let byPicture = try JSON.parse(picture.stdout) as? [[String: Any]] ?? []
        #expect(picture.status == 0 && byPicture.count == 3 && byPicture.allSatisfy { $0["likelihood"] is NSNull }, "\(picture.all)")
    }

    @Test func badCutOffsExit64() throws {
        let w = try CLIWorkspace.get()
        for (flags, says) in [(["--min-likelihood", "0"], "above 0 and at most 1"), (["--min-likelihood", "1.5"], "above 0 and at most 1"),
                              (["--all", "--min-likelihood", "0.5"], "not both")] {
            let out = try CommandLineTool.run(["query", "a red circle"] + flags, in: w.images)
            #expect(out.status == 64 && out.stderr.contains(says) && out.stdout.isEmpty, "\(flags): \(out.all)")
        }
    }

    @Test func aModelWithoutCalibrationOrWithADamagedOneStillSearches() throws {
        let w = try CLIWorkspace.get()
        let folder = try CommandLineTool.folder("likelihood-models")
        let old = folder.appendingPathComponent("old.safetensors"), damaged = folder.appendingPathComponent("damaged.safetensors")
        try rewriteMetadata(of: URL(fileURLWithPath: w.model), to: old) { $0["calibration"] = nil; $0["calibration_checksum"] = nil }
        try rewriteMetadata(of: URL(fileURLWithPath: w.model), to: damaged) {
            $0["calibration"] = ($0["calibration"] ?? "").replacingOccurrences(of: "\"pictures\":", with: "\"pictures\":9")
        }
        for model in [old, damaged] {
            let out = try CommandLineTool.run(["query", "a red circle", "-k", "5", "--json", "--model", model.path], in: w.images)
            #expect(out.status == 0, "\(out.all)")
            let hits = try JSON.parse(out.stdout) as? [[String: Any]] ?? []
            #expect(hits.count == 5 && hits.allSatisfy { $0["likelihood"] is NSNull }, "\(out.stdout)")
            let warned = out.stderr.contains("warning: \(model.path): its score calibration is damaged (checksum); results get no likelihood")
            #expect(warned == (model == damaged), "\(out.stderr)")
            let eval = try CommandLineTool.run(["eval", "--model", model.path, "--data", w.captions, "--json"])
            let report = try JSON.object(eval.stdout)
            #expect(eval.status == 0 && report["calibration"] is NSNull, "\(eval.all)")
        }
    }

    @Test func evalChecksTheCalibration() throws {
        let w = try CLIWorkspace.get()
        let eval = try CommandLineTool.run(["eval", "--model", w.model, "--data", w.captions, "--json"])
        #expect(eval.status == 0, "\(eval.all)")
        let calibration = try JSON.object(eval.stdout)["calibration"] as? [String: Any] ?? [:]
        #expect(Set(calibration.keys) == ["bins", "ece", "threshold", "kept_matches", "kept_in_top10", "kept_others",
                                          "shown_of_top10", "pictures", "captions"], "\(calibration.keys.sorted())")
        let bins = calibration["bins"] as? [[String: Any]] ?? []
        #expect(bins.count == 10 && bins.reduce(0) { $0 + ($1["matches"] as? Int ?? 0) } == 96, "every caption's own picture in one bin")
        #expect((calibration["ece"] as? Double).map { $0 >= 0 && $0 <= 1 } == true)
        let text = try CommandLineTool.run(["eval", "--model", w.model, "--data", w.captions])
        #expect(text.stdout.contains("expected calibration error") && text.stdout.contains("cut-off at 50%: keeps "), "\(text.all)")
    }

    /// Copies a safetensors file with its metadata changed, the header padded to its old length
    /// (the weights' offsets count from the end of the header).
    private func rewriteMetadata(of source: URL, to target: URL, _ change: (inout [String: String]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: source))
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        var header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
        var metadata = header["__metadata__"] as? [String: String] ?? [:]
        change(&metadata)
        header["__metadata__"] = metadata
        var text = [UInt8](try JSONSerialization.data(withJSONObject: header))
        try #require(text.count <= length, "the changed header must not grow")
        text += [UInt8](repeating: 0x20, count: length - text.count)
        bytes.replaceSubrange(8..<(8 + length), with: text)
        try Data(bytes).write(to: target)
    }
}
