// `retrieve eval`: Recall@1/5/10 and median rank of a model, text→image and image→text, on all
// the pictures of a captions file or one part of its split.
import ArgumentParser
import Foundation
import Retrieval
import Datasets

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's retrieval: Recall@1/5/10 and median rank, both directions.",
        discussion: """
            Each caption's ground truth is its own picture. Candidates that score exactly the same as the truth (captions that encode the same, a collapsed model) count as if in random order: a tie with one rival is half a hit at 1. By default every picture of the data takes part; --on picks one part of the split (the split itself comes from --split FILE, a split.tsv beside the captions, or a hash of each path).

            --json prints {"t2i": {"R@1": …, "R@5": …, "R@10": …, "medr": …}, "i2t": {…}, "images": N, "captions": M}.

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
            let parts = [data.train, data.validation, data.test]
            store = ImageStore(side: data.train.side, images: parts.flatMap(\.images), items: parts.flatMap(\.items))
        case .train: store = data.train
        case .val: store = data.validation
        case .test: store = data.test
        }
        guard store.count > 0 else {
            throw CommandError("\(dataOptions.data): no readable pictures in the \(part.rawValue) part (choose another with --on, or check the split)")
        }
        let report = RetrievalEvaluation.evaluate(model: encoder, store: store, captions: captions)
        if json {
            try Console.printJSON(report)
        } else {
            print("\(counted(report.images, "picture")), \(counted(report.captions, "caption")) (\(part.rawValue))")
            print("              R@1    R@5    R@10   medr")
            for (name, r) in [("text→image", report.textToImage), ("image→text", report.imageToText)] {
                print(pad(name, 12) + [r.r1, r.r5, r.r10].map { pad(fixed($0, 1), 7) }.joined() + fixed(r.medianRank, 1))
            }
        }
    }
}

extension RetrievalEvaluation.CaptionChoice: ExpressibleByArgument {}
