// `retrieve train`: trains a model on captioned pictures with a progress bar, per-epoch
// validation recall, collapse alarms, metrics lines, best/last models and Ctrl-C that saves a
// resumable state.
import ArgumentParser
import Cluster
import Foundation
import Synchronization
import Neural
import Retrieval
import Datasets
import Text
import Vision

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an image–text model on your captioned pictures.",
        discussion: """
            Writes the best model (by validation recall) to --out, the last one to MODEL.last.safetensors, the resumable state to MODEL.state.safetensors, and one JSON line per logged step, evaluation and alarm to --metrics (default MODEL.metrics.jsonl), and at the end a self-contained HTML report of the run to MODEL.report.html. Every file is written to a temporary name and renamed, so none is ever left half-written.

            Ctrl-C (or SIGTERM, or SIGUSR1: under mpirun send it to mpirun, which forwards it to every rank) finishes the step, saves the state and exits 130; run the same command with --resume to go on exactly where it stopped. A resumed run keeps its saved settings, except --epochs: a different number extends (or ends earlier) the run, and the learning-rate schedule then spans the new length.

            --data also takes WebDataset tar shards: one .tar, a folder of them, or a range such as 'shards/{000000..000059}.tar'. Each shard is decoded once into a pixel cache (--cache DIR, default retrieve-cache beside the shards) that later runs read a picture at a time, so memory does not grow with the data (docs/webdataset.md).

            Pictures that cannot be decoded are skipped and listed with the reason; so are damaged ones (corrupt JPEG data that libjpeg decodes by guessing part of the picture), unless --keep-damaged.

            Before the first step the data is checked: training pictures that are all one picture (by their pixels) or captions that are all one caption, or nearly so (90%), stop with an error (--force trains anyway); heavy duplication and many unknown validation words are warnings. The collapse monitor judges every run, however short (its grace and window scale with the run), compares each validation evaluation with a random ranking, and gives a final verdict at the end; a mode it could not judge says "not judged".

            Under mpirun (OpenMPI: mpirun -np N retrieve train …, as SLURM and other schedulers launch it) the N processes train one model. --batch is the global batch: every rank draws the same batches, prepares and forwards its share of each, and the embeddings are gathered so that every rank computes the loss over all of them (every negative of the global batch); the gradients are summed over the ranks before clipping and every rank takes the same step. Each rank uses its share of the machine's cores; rank 0 alone prints and writes the files (every rank runs the evaluations and the collapse monitor on the same global figures, so all reach the same decisions). The run equals one process's on the same global batch, up to rounding: batch norm is synchronised (each normalising layer merges the ranks' statistics). --resume continues with any number of ranks. A rank that fails stops the whole job.

            --json prints the summary: {"outcome": "completed" | "interrupted" | "collapsed", "collapsedMode": mode (when collapsed), "steps": N, "seconds": s, "model": path, "last": path, "state": path, "metrics": path, "report": path, "best": {evaluation} (absent before the first), "alarms": [alarm], "verdict": {mode: state}}.

            \(ExitStatus.table)
            """
    )

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var architecture: ArchitectureOptions

    @Option(help: ArgumentHelp("Where to write the model (.safetensors).", valueName: "model"))
    var out: String

    @Option(help: "Passes over the training pictures (default: 10; with --resume, the saved run's, and a new number extends it).")
    var epochs: Int?

    @Option(help: "Pairs per step.")
    var batch = 128

    @Option(help: "Peak learning rate (AdamW, warm-up then cosine).")
    var lr = 2e-3

    @Option(help: "Warm-up steps before the cosine (default: 5% of the run, at most 200).")
    var warmupSteps: Int?

    @Option(help: "Learning rate at the end of the cosine, as a fraction of the peak (1 keeps it constant).")
    var finalLR = TrainingOptions().finalLearningRateFraction

    @Option(help: "Clip the global gradient norm at this value (0 turns clipping off).")
    var clip = TrainingOptions().clipNorm ?? 0

    @Option(help: "Learning-rate multiplier for the word and position embedding tables.")
    var embeddingLR = TrainingOptions().embeddingLearningRateMultiplier

    @Option(help: "Decoupled weight decay (not on biases, norms or the temperature).")
    var weightDecay = 0.05

    @Option(help: "Seed for initialisation, shuffling and augmentation.")
    var seed: UInt64 = 0

    @Option(help: "Loss: npair (contrastive, learned temperature), hinge (VSE++ max of hinges) or sigmoid (SigLIP's pairwise sigmoid, learned temperature and bias).")
    var loss: TrainingLoss = .nPair

    @Option(help: "Margin of the hinge loss.")
    var margin = 0.2

    @Flag(help: "Augment the training pictures (random resized crop, colour jitter): off by default, as it did not pay on the real sets measured in 20 epochs; try it for long runs on few pictures.")
    var augment = false

    @Flag(help: .hidden)
    var noAugment = false

    @Option(help: "With --augment: smallest area of the random crop, as a fraction of the picture (1 turns cropping off).")
    var cropScale = Augmentation().cropScale.lowerBound

    @Option(help: "With --augment: largest relative change of brightness, contrast and saturation (0 turns the jitter off).")
    var jitter = Augmentation().brightness

    @Option(help: "What to do when training collapses: warn, stop (save and exit 3) or rollback (restore the last healthy state, halve the learning rate).")
    var onCollapse: CollapsePolicy = .warn

    @Option(help: "Words seen fewer times than this in training captions become unknown.")
    var minCount = 1

    @Option(help: "Largest vocabulary, the two reserved words included.")
    var vocabSize = 5000

    @Flag(help: "Train even when the data check finds the pictures or captions all (or nearly all) the same.")
    var force = false

    @Flag(help: "Continue the run saved in MODEL.state.safetensors with its saved settings (only --epochs can change).")
    var resume = false

    @Option(help: ArgumentHelp("Also save the resumable state every this many minutes within an epoch (it is saved at every epoch's end and on Ctrl-C), so a run killed outright, or an mpirun job that lost a rank, resumes from there; 0: only then.", valueName: "minutes"))
    var saveEvery = 10.0

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from this model's weights, architecture and vocabulary (fine-tuning); the optimizer starts fresh and the architecture flags are ignored.", valueName: "model"))
    var initialModel: String?

    @Option(help: "Log a step (progress line and metrics record) every this many steps.")
    var logEvery = TrainingOptions().logEvery

    @Option(help: ArgumentHelp("Metrics file (JSON lines).", valueName: "file"))
    var metrics: String?

    @Flag(help: "Say which processor, SIMD features, BLAS kernel and thread count the run uses.")
    var verbose = false

    @Flag(help: "Print the final summary as JSON.")
    var json = false

    var options: TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs ?? 10
        o.batchSize = batch
        o.learningRate = lr
        o.weightDecay = weightDecay
        o.embeddingLearningRateMultiplier = embeddingLR
        o.warmupSteps = warmupSteps
        o.finalLearningRateFraction = finalLR
        o.clipNorm = clip == 0 ? nil : clip
        o.seed = seed
        o.loss = loss.withMargin(margin)
        if augment && !noAugment {
            o.augmentation = Augmentation()
            o.augmentation.cropScale = min(cropScale, 1)...1
            if cropScale >= 1 { o.augmentation.cropAspect = 1...1 }
            (o.augmentation.brightness, o.augmentation.contrast, o.augmentation.saturation) = (jitter, jitter, jitter)
        }
        o.onCollapse = onCollapse
        o.logEvery = logEvery
        return o
    }

    func validate() throws {
        if let problem = options.problem() { throw ValidationError(problem) }
        guard cropScale > 0 && cropScale <= 1 else { throw ValidationError("--crop-scale must be in (0, 1], got \(cropScale)") }
        guard jitter >= 0 && jitter < 1 else { throw ValidationError("--jitter must be in [0, 1), got \(jitter)") }
        guard minCount >= 1, vocabSize >= 3 else { throw ValidationError("--min-count must be ≥ 1 and --vocab-size ≥ 3") }
        guard saveEvery >= 0 else { throw ValidationError("--save-every must be 0 or more minutes, got \(saveEvery)") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1, got \(logEvery)") }
        if options.loss == .sigmoid, let initialModel,
           let model = try? ModelFile.read(from: URL(fileURLWithPath: initialModel)).model, model.logitBias == nil {
            throw ValidationError("--init \(initialModel): the model has no logit bias, which --loss sigmoid needs; train it with --loss sigmoid")
        }
        if resume && initialModel != nil { throw ValidationError("--resume and --init cannot be combined: a resumed run already has its weights") }
        let files = TrainingFiles(model: URL(fileURLWithPath: out))
        if resume && !FileManager.default.fileExists(atPath: files.state.path) {
            throw ValidationError("--resume: no saved state at \(files.state.path)")
        }
        let folder = files.best.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder) else { throw ValidationError("--out: folder \(folder) does not exist") }
    }

    func run() throws {
        _ = LargeAllocations.keepInProcess()
        let world = Communicator.world
        Distributed.start(world)
        if verbose { Console.error(machineLine()) }
        let files = TrainingFiles(model: URL(fileURLWithPath: out))
        let initial = try initialModel.map { try ModelFile.read(from: URL(fileURLWithPath: $0)).model }
        let configuration = resume ? try TrainingState.configuration(at: files.state)
            : initial?.configuration ?? architecture.configuration(for: options.loss)
        let data = try dataOptions.load(preprocessing: configuration.preprocessing)
        guard data.train.count >= 2 else {
            throw CommandError("\(dataOptions.data): \(data.train.count == 0 ? "no" : "only one") training picture could be read (training needs two or more; the warnings above name the pictures skipped)")
        }
        // Only the leader writes: the other ranks keep their models in memory and hear nothing.
        let written = world.isLeader ? files : nil
        let trainer: Trainer
        if resume {
            trainer = try resumed(files, data, writing: written, communicator: world)
        } else {
            let model = initial ?? DualEncoder(configuration: configuration, vocabularyFrom: data.train.items.lazy.flatMap(\.captions),
                                               minCount: minCount, maxVocabulary: vocabSize, seed: seed)
            trainer = Trainer(model: model, train: data.train, validation: data.validation, options: options, files: written,
                              communicator: world)
        }
        trainer.stateInterval = saveEvery > 0 ? saveEvery * 60 : nil
        try Distributed.check(trainer, world)
        try checkData(data, vocabulary: trainer.model.vocabulary)
        let interrupt = InterruptFlag()
        guard world.isLeader else {
            let outcome = try trainer.run(events: { _ in }, shouldStop: { interrupt.isSet })
            return try exit(outcome)
        }
        let metricsURL = URL(fileURLWithPath: metrics ?? files.best.deletingPathExtension().path + ".metrics.jsonl")
        let log = try MetricsLog(url: metricsURL, truncate: !resume)
        Console.error("data: \(data.train.count) train / \(data.validation.count) validation pictures (\(data.splitSource)); vocabulary \(trainer.model.vocabulary.count) words")
        if world.isDistributed { Console.error(Distributed.planLine(trainer, world)) }

        let report = TrainingReporter(trainer: trainer, log: log, json: json)
        let startStep = trainer.step
        let outcome = try trainer.run(events: report.handle, shouldStop: { interrupt.isSet })
        if world.isDistributed { Console.error(Distributed.exchangeLine(world, steps: trainer.step - startStep)) }
        report.finish(outcome: outcome, files: files, metrics: metricsURL)
        try exit(outcome)
    }

    private func exit(_ outcome: TrainingOutcome) throws {
        switch outcome {
        case .completed: return
        case .interrupted: throw ExitCode(130)
        case .collapsed: throw ExitCode(3)
        }
    }
}

extension TrainCommand {
    /// The saved run, extended to --epochs when that differs; refused when nothing is left to do.
    /// `written` is where this rank writes (nil on all but the leader of a distributed run).
    func resumed(_ files: TrainingFiles, _ data: TrainingData, writing written: TrainingFiles?,
                 communicator: Communicator) throws -> Trainer {
        let saved = try TrainingState.epochs(at: files.state)
        let trainer = try TrainingState.resume(from: files.state, train: data.train, validation: data.validation,
                                               files: written, epochs: epochs, communicator: communicator)
        let planned = counted(saved, "epoch")
        if trainer.step >= trainer.totalSteps {
            let more = max(saved, epochs ?? 0) + 1
            throw CommandError("\(files.state.path): the saved run already did \(counted(trainer.epoch, "epoch")) (step \(trainer.step)); nothing to resume (pass --epochs \(more) or more with --resume to extend it)")
        }
        if let epochs, epochs != saved {
            Console.error("note: \(epochs > saved ? "extending" : "shortening") the saved run from \(planned) to \(counted(epochs, "epoch")) (\(trainer.totalSteps) steps); the learning-rate schedule now spans the new length")
        }
        Console.error("resuming at step \(trainer.step) of \(trainer.totalSteps)")
        return trainer
    }

    /// Prints the data check's warnings; its errors stop training unless --force.
    func checkData(_ data: TrainingData, vocabulary: Vocabulary) throws {
        let check = DataCheck(train: data.train, validation: data.validation, vocabulary: vocabulary)
        for finding in check.findings where finding.severity == .warning || force {
            Console.error("warning: \(dataOptions.data): \(finding.message)")
        }
        if let error = check.errors.first, !force {
            throw CommandError("\(dataOptions.data): \(error.message) (--force trains anyway)")
        }
    }
}

/// Ctrl-C once: finish the step, save, exit 130. Twice: exit at once. SIGTERM (what schedulers
/// send before a job's time runs out) and SIGUSR1 (what mpirun forwards to its ranks; its own
/// Ctrl-C kills them within a second) do the same, so a job under mpirun or SLURM can be stopped
/// with its state saved. A plain handler that touches only atomics, so it works on whichever of
/// the process's threads (dispatch's, MPI's) the signal lands.
final class InterruptFlag: @unchecked Sendable {
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGUSR1]
    private var announced = false

    init() {
        // A process started from a thread that blocks them (a dispatch queue's) inherits the block.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in Self.signals { sigaddset(&unblock, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for number in Self.signals {
            signal(number) { number in
                // Only atomics and _exit are safe in a signal handler.
                interruptSignal.store(number, ordering: .relaxed)
                if interruptCount.add(1, ordering: .relaxed).newValue >= 2 { _exit(130) }
            }
        }
    }

    /// Polled after every step, on the training thread; says once what the signal does.
    var isSet: Bool {
        guard interruptCount.load(ordering: .relaxed) > 0 else { return false }
        if !announced {
            announced = true
            let number = interruptSignal.load(ordering: .relaxed)
            let name = [SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1"][number]
            Console.error(name.map { "\ninterrupted by \($0): saving a resumable state after this step (\($0) again to quit now)" }
                          ?? "\ninterrupted: saving a resumable state after this step (Ctrl-C again to quit now)")
        }
        return true
    }
}

/// Signals received (a signal handler may touch only atomics) and the last one's number.
private let interruptCount = Atomic<Int>(0)
private let interruptSignal = Atomic<Int32>(0)
