// `retrieve eval`: Recall@1/5/10 and median rank of a model, text→image and image→text, on all
// the pictures of a captions file or one part of its split.
import ArgumentParser
import Foundation
import Retrieval
import Datasets

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's retrieval (Recall@1/5/10, median rank, both directions) and its likelihoods' calibration.",
        discussion: """
            Each caption's ground truth is its own picture. Candidates that score exactly the same as the truth (captions that encode the same, a collapsed model) count as if in random order: a tie with one rival is half a hit at 1. By default every picture of the data takes part; --on picks one part of the split (the split itself comes from --split FILE, a split.tsv beside the captions, or a hash of each path).

            A model trained with validation pictures also holds the scores of their true and other caption–picture pairs; eval then checks the likelihood of a match computed from them (what retrieve query shows) against these pictures: a reliability table of predicted likelihood against the share of true pairs observed (both weighted to even odds, as predicted), the expected calibration error, and how often the 50% cut-off keeps each caption's own picture. Run it with --on test for pictures training never saw.

            --json prints {"t2i": {"R@1": …, "R@5": …, "R@10": …, "medr": …}, "i2t": {…}, "images": N, "captions": M, "calibration": {"bins": [{"from", "to", "predicted", "observed", "matches", "others"}], "ece", "threshold", "kept_matches", "kept_in_top10", "kept_others", "shown_of_top10", "pictures", "captions"} or null}.

            \(ExitStatus.table)
            """
    )

    @Option(help: ArgumentHelp("The model file.", valueName: "model"))
    var model: String

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .customLong("on"), help: "Which pictures: all, train, val or test.")
    var part: Part = .all

    @Option(help: "Captions per picture: all, or first (the reference script's protocol).")
    var captions: RetrievalEvaluation.CaptionChoice = .all

    @Flag(help: "Print JSON.")
    var json = false

    enum Part: String, ExpressibleByArgument, CaseIterable { case all, train, val, test }

    func run() throws {
        let (encoder, _) = try ModelFile.read(from: URL(fileURLWithPath: model))
        let data = try dataOptions.load(preprocessing: encoder.configuration.preprocessing)
        let store: ImageStore
        switch part {
        case .all:
            store = data.train.appending(data.validation).appending(data.test)
        case .train: store = data.train
        case .val: store = data.validation
        case .test: store = data.test
        }
        guard store.count > 0 else {
            throw CommandError("\(dataOptions.data): no readable pictures in the \(part.rawValue) part (choose another with --on, or check the split)")
        }
        if let warning = encoder.calibrationWarning { Console.error("warning: \(warning)") }
        let scores = RetrievalEvaluation.embed(model: encoder, store: store, captions: captions)
        let report = RetrievalEvaluation.report(scores)
        let calibration = encoder.calibration.map { CalibrationReport(calibration: $0, scores: scores) }
        if json {
            try Console.printJSON(EvalJSON(recall: report, calibration: calibration))
        } else {
            print("\(counted(report.images, "picture")), \(counted(report.captions, "caption")) (\(part.rawValue))")
            print("              R@1    R@5    R@10   medr")
            for (name, r) in [("text→image", report.textToImage), ("image→text", report.imageToText)] {
                print(pad(name, 12) + [r.r1, r.r5, r.r10].map { pad(fixed($0, 1), 7) }.joined() + fixed(r.medianRank, 1))
            }
            print("")
            if let calibration { printReliability(calibration) } else {
                print("likelihood: the model file holds no score calibration (trained before retrieve stored one, or without validation pictures)")
            }
        }
    }

    /// The reliability table: per band of predicted likelihood, the pairs in it and the share
    /// of them that were true pairs (both kinds weighted to even odds, as predicted).
    private func printReliability(_ r: CalibrationReport) {
        print("likelihood of a match (calibrated on validation, even odds), on these pictures:")
        print("  predicted     pairs (true/other)   mean predicted   observed")
        for bin in r.bins where bin.matches + bin.others > 0 {
            let band = "\(Int(bin.from * 100))–\(Int(bin.to * 100))%"
            print("  " + pad(band, 14) + pad("\(bin.matches)/\(bin.others)", 21)
                  + pad(bin.predicted.map { fixed($0 * 100, 1) + "%" } ?? "–", 17) + (bin.observed.map { fixed($0 * 100, 1) + "%" } ?? "–"))
        }
        let threshold = Int(r.threshold * 100)
        print("expected calibration error \(fixed(r.ece * 100, 1)) points")
        print("cut-off at \(threshold)%: keeps \(fixed(r.keptMatches * 100, 1))% of the captions' own pictures "
              + "(\(fixed(r.keptInTop10 * 100, 1))% within the first 10 results) and \(fixed(r.keptOthers * 100, 1))% of the other pictures; "
              + "\(fixed(r.shownOfTop10, 1)) of the first 10 results shown on average")
    }
}

/// `retrieve eval --json`: the recall report's fields and "calibration" (null without one).
struct EvalJSON: Encodable {
    let recall: RecallReport
    let calibration: CalibrationReport?

    enum CodingKeys: String, CodingKey { case calibration }

    func encode(to encoder: any Encoder) throws {
        try recall.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(calibration, forKey: .calibration)
    }
}

extension RetrievalEvaluation.CaptionChoice: ExpressibleByArgument {}
