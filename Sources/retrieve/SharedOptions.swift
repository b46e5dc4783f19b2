// Option groups shared by several subcommands: where the captioned data is, and the shape of
// a new model.
import ArgumentParser
import Foundation
import Vision
import Retrieval
import Datasets

struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Captions: TSV/CSV (path<TAB>caption), COCO captions JSON, a Flickr token file, a folder of pictures with .txt sidecars, or WebDataset tar shards (a .tar, a folder of them, or 'shards/{000000..000059}.tar').",
                               valueName: "file"))
    var data: String

    @Option(help: ArgumentHelp("With tar shards: folder for the decoded pixel caches (default: retrieve-cache beside the shards).", valueName: "dir"))
    var cache: String?

    @Option(help: ArgumentHelp("Folder the picture paths are relative to (default: the captions file's folder).", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Split file (path<TAB>train|val|test). Default: split.tsv beside the captions, else a hash split.",
                               valueName: "file"))
    var split: String?

    @Option(help: "Fraction of pictures held out for validation by the hash split.")
    var valFraction = 0.1

    @Flag(help: "Use damaged pictures (corrupt JPEG data that libjpeg decodes by guessing) instead of skipping them.")
    var keepDamaged = false

    func validate() throws {
        guard namesShards || FileManager.default.fileExists(atPath: data) else {
            throw ValidationError("--data \(data): no such file or folder")
        }
        if let images, !FileManager.default.fileExists(atPath: images) {
            throw ValidationError("--images \(images): no such folder")
        }
        guard valFraction > 0 && valFraction < 0.9 else {
            throw ValidationError("--val-fraction must be between 0 and 0.9, got \(valFraction)")
        }
    }

    /// Reads the captions and decodes the pictures, with a progress bar and one report of what was left out.
    func load(preprocessing: Preprocessing) throws -> TrainingData {
        if namesShards { return try loadShards(preprocessing: preprocessing) }
        let bar = ProgressBar("decode", total: 1, unit: "img")
        let data = try TrainingData.load(captions: URL(fileURLWithPath: self.data),
                                         imagesDirectory: images.map { URL(fileURLWithPath: $0) },
                                         splitFile: split.map { URL(fileURLWithPath: $0) },
                                         validationFraction: valFraction, preprocessing: preprocessing,
                                         keepDamaged: keepDamaged, progress: { done, all in bar.update(done, of: all) })
        bar.finish("", count: data.train.count + data.validation.count + data.test.count + data.undecodable.count)
        for warning in data.dataset.warnings.prefix(10) { Console.error("warning: \(warning)") }
        if data.dataset.warnings.count > 10 { Console.error("warning: … and \(data.dataset.warnings.count - 10) more caption lines skipped") }
        if !data.missing.isEmpty {
            Console.error("warning: \(self.data): \(counted(data.missing.count, "picture")) named here \(data.missing.count == 1 ? "does" : "do") not exist, skipped (first: \(data.missing[0].url.path))")
        }
        let bad = data.undecodable
        if !bad.isEmpty {
            let damaged = bad.filter { $0.reason.hasPrefix("damaged ") }.count
            Console.error("warning: \(counted(bad.count, "picture")) skipped" + (damaged > 0 ? " (\(damaged) damaged: --keep-damaged uses those anyway)" : "") + ":")
            for failure in bad.prefix(10) { Console.error("  \(failure.path): \(failure.reason)") }
            if bad.count > 10 { Console.error("  … and \(bad.count - 10) more") }
        }
        if !data.damaged.isEmpty {
            Console.error("warning: \(counted(data.damaged.count, "damaged picture")) used anyway (--keep-damaged):")
            for kept in data.damaged.prefix(10) { Console.error("  \(kept.path): \(kept.reason)") }
        }
        return data
    }
}

struct ArchitectureOptions: ParsableArguments {
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case standard, reference
    }

    @Option(help: "Architecture preset: standard (batch norm, position embeddings; the default) or reference (the PyTorch reference's: neither).")
    var arch: Preset?

    @Option(help: "Normalisation in the CNN: batch or none (overrides the preset).")
    var norm: ModelConfiguration.Normalization?

    @Option(help: "Position embeddings in the text tower: on or off (overrides the preset).")
    var positionEmbeddings: Toggle?

    @Option(help: "Dimension of the shared embedding space.")
    var embeddingDim: Int?

    @Option(help: "Input side of the image tower in pixels.")
    var imageSize: Int?

    @Option(help: "Rows of the hashed character n-gram table beside the word table (0 turns it off).")
    var subwordBuckets: Int?

    @Option(help: "Starting temperature of the logits (default 0.07; 0.1 with --loss sigmoid).")
    var temperature: Double?

    enum Toggle: String, ExpressibleByArgument { case on, off }

    var configuration: ModelConfiguration {
        var c = (arch ?? .standard) == .reference ? ModelConfiguration.reference : ModelConfiguration()
        if let norm { c.normalization = norm }
        if let positionEmbeddings { c.positionEmbeddings = positionEmbeddings == .on }
        if let embeddingDim { c.embeddingDimension = embeddingDim }
        if let imageSize { c.imageSize = imageSize }
        if let subwordBuckets { c.subwordBuckets = subwordBuckets }
        return c
    }

    /// The configuration for training with `loss`: what the loss needs (a logit bias for the
    /// sigmoid loss), then the starting temperature asked for.
    func configuration(for loss: TrainingLoss) -> ModelConfiguration {
        var c = configuration.prepared(for: loss)
        if let temperature { c.initialLogScale = Foundation.log(1 / temperature) }
        return c
    }

    func validate() throws {
        if let problem = configuration.problem() { throw ValidationError(problem) }
        if let temperature, !(temperature >= 0.01 && temperature <= 1) {
            throw ValidationError("--temperature must be in [0.01, 1] (the logit scale's clamp), got \(temperature)")
        }
    }
}

extension ModelConfiguration.Normalization: ExpressibleByArgument {}

/// `--loss npair|hinge|sigmoid`; the hinge's margin comes from `--margin` (`withMargin`).
extension TrainingLoss: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "npair": self = .nPair
        case "hinge": self = .hinge(margin: 0.2)
        case "sigmoid": self = .sigmoid
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["npair", "hinge", "sigmoid"] }
    public var defaultValueDescription: String {
        switch self {
        case .nPair: return "npair"
        case .hinge: return "hinge"
        case .sigmoid: return "sigmoid"
        }
    }

    /// This loss, with `margin` if it is the hinge.
    func withMargin(_ margin: Double) -> TrainingLoss {
        if case .hinge = self { return .hinge(margin: margin) }
        return self
    }
}
extension CollapsePolicy: ExpressibleByArgument {}
