// Runs that learn nothing, built from real pictures with their real names (the Oxygen icons),
// as a new user meets them: every picture the same, every caption the same, captions shuffled
// against their pictures, an absurd learning rate. Each in a short run (≤ 60 steps) and a long
// one, with the thresholds the trainer scales to the run, as `retrieve train` uses them; each
// must be named, and `--on-collapse stop` must stop it. The data check names the first two
// before any training.
import Foundation
import Testing
import Neural
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

@Suite(.serialized)
struct LearnedNothingRunTests {
    /// 16 steps an epoch at batch 64 on the icons' training split.
    static let short = 3, long = 10

    /// Trains `epochs` on `stores` with the stop policy and the run-scaled thresholds.
    static func run(_ stores: (train: ImageStore, validation: ImageStore), epochs: Int, seed: UInt64 = 0,
                    _ adjust: @escaping (inout TrainingOptions) -> Void = { _ in }) throws -> CollapseRun.Result {
        try CollapseRun.run(steps: .max, train: stores.train, validation: stores.validation, thresholds: nil) { o in
            o.epochs = epochs
            o.seed = seed
            o.warmupSteps = nil
            o.onCollapse = .stop
            adjust(&o)
        }
    }

    @Test(arguments: [short, long])
    func captionsShuffledAgainstTheirPicturesLearnNothing(epochs: Int) throws {
        let icons = try IconSet.stores()
        let stores = (IconSet.shuffled(icons.train, seed: 1), IconSet.shuffled(icons.validation, seed: 2))
        let run = try Self.run(stores, epochs: epochs)
        print("shuffled pairing, \(epochs) epochs:", run.trace, run.ranges)
        // Named as what it is: retrieval at chance (in the batches, or on validation while the
        // training pictures are memorised); the scores may flatten too, and that stops it as well.
        guard case .collapsed(let mode) = run.outcome else { Issue.record("not stopped: \(run.trace)"); return }
        #expect([.learnedNothing, .similarity].contains(mode), "\(run.trace)")
        if let alarm = run.alarms.first(where: { $0.mode == .learnedNothing }) {
            #expect(alarm.summary.contains("learned nothing") && alarm.summary.contains("chance"), "\(alarm.summary)")
            #expect(alarm.advice.contains("shuffled"))
        } else {
            // Flat scores stopped it before the first evaluation: the cure still names the pairing.
            let alarm = try #require(run.alarms.first { $0.mode == .similarity && $0.health == .collapsed }, "\(run.trace)")
            #expect(alarm.advice.contains("captions not paired with their own pictures"), "\(alarm.advice)")
        }
        #expect(run.trainer.step <= max(48, run.trainer.totalSteps / 2), "stopped at \(run.trainer.step)")
    }

    @Test(arguments: [short, long])
    func onePictureUnderEveryCaptionIsRefusedAndThenNamed(epochs: Int) throws {
        let icons = try IconSet.stores()
        let stores = (IconSet.onePicture(icons.train), IconSet.onePicture(icons.validation))
        let check = DataCheck(train: stores.0, validation: stores.1,
                              vocabulary: .build(from: stores.0.items.flatMap(\.captions)))
        #expect(check.distinctPictures == 1)
        #expect(check.errors.map(\.message) == ["the \(stores.0.count) training pictures are 1 distinct picture: nothing can be learned from them"])
        // Trained anyway (--force): augmentation makes the copies differ a little, so the image
        // tower is not constant, but no picture can be told from another and the scores go flat.
        let run = try Self.run(stores, epochs: epochs)
        print("one picture, \(epochs) epochs:", run.trace)
        guard case .collapsed(let mode) = run.outcome else { Issue.record("not stopped: \(run.trace)"); return }
        #expect([.embedding, .learnedNothing, .similarity].contains(mode), "\(run.trace)")
        #expect(run.alarms.first?.advice.contains("one picture or one caption") == true || mode != .similarity,
                "\(run.alarms.map(\.advice))")
        #expect(run.trainer.step <= Self.deadline(run), "stopped at \(run.trainer.step)")
    }

    @Test(arguments: [short, long])
    func oneCaptionOnEveryPictureIsRefusedAndThenNamed(epochs: Int) throws {
        let icons = try IconSet.stores()
        let stores = (IconSet.oneCaption(icons.train), IconSet.oneCaption(icons.validation))
        let check = DataCheck(train: stores.0, validation: stores.1,
                              vocabulary: .build(from: stores.0.items.flatMap(\.captions)))
        #expect(check.distinctCaptions == 1)
        #expect(check.errors.first?.message.contains("1 distinct caption") == true, "\(check.findings)")
        let run = try Self.run(stores, epochs: epochs)
        print("one caption, \(epochs) epochs:", run.trace)
        guard case .collapsed(let mode) = run.outcome else { Issue.record("not stopped: \(run.trace)"); return }
        #expect([.embedding, .learnedNothing, .similarity].contains(mode), "\(run.trace)")
        #expect(run.alarms.first?.summary.contains("text tower") == true || mode != .embedding, "\(run.alarms.map(\.summary))")
        #expect(run.trainer.step <= Self.deadline(run), "stopped at \(run.trainer.step)")
    }

    @Test(arguments: [short, long])
    func anAbsurdLearningRateIsNamed(epochs: Int) throws {
        let run = try Self.run(try IconSet.stores(), epochs: epochs) { $0.learningRate = 0.9 }
        print("lr 0.9, \(epochs) epochs:", run.trace)
        guard case .collapsed(let mode) = run.outcome else { Issue.record("not stopped: \(run.trace)"); return }
        #expect([.similarity, .temperature, .dimensional, .embedding, .learnedNothing].contains(mode), "\(run.trace)")
        #expect(run.trainer.step <= Self.deadline(run), "stopped at \(run.trainer.step)")
    }

    /// Early enough to matter: within the first half of the run.
    static func deadline(_ run: CollapseRun.Result) -> Int { run.trainer.totalSteps / 2 }

    @Test func thePartialDuplicatesOfARealSetAreOnlyWarnings() throws {
        let icons = try IconSet.stores()
        // Every picture twice, under its own caption and a copy's: half are duplicates.
        let doubled = ImageStore(side: icons.train.side, images: icons.train.images + icons.train.images,
                                 items: Array(icons.train.items + icons.train.items))
        let check = DataCheck(train: doubled, validation: icons.validation,
                              vocabulary: .build(from: doubled.items.flatMap(\.captions)))
        #expect(check.errors.isEmpty, "\(check.findings)")
        #expect(check.distinctPictures == icons.train.count)
        let real = DataCheck(train: icons.train, validation: icons.validation,
                             vocabulary: .build(from: icons.train.items.flatMap(\.captions)))
        #expect(real.errors.isEmpty && real.distinctPictures == icons.train.count, "\(real.findings)")
        print("icons: \(real.distinctCaptions) distinct of \(real.captions) captions, unknown validation words \(real.unknownWordShare ?? .nan)")
    }
}
