// `retrieve bench …`: speed measurements printed as tables (or JSON for scripts).
// Benchmarks, not tests: run them with the environment you want to measure.
import ArgumentParser
import Foundation
import Neural
import Benchmarks

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure retrieve's speed on this machine.",
        subcommands: [GEMMBenchCommand.self, TrainBenchCommand.self, SearchBenchCommand.self]
    )
}

struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of retrieve's GEMM entry point beside a direct cblas_sgemm call.",
        discussion: """
            Times the model's real product shapes (im2col convolutions, projections, the similarity matrix) and squares 256…2048, alternating the two paths in one run, then the image tower's convolutions at batch 256 against their GEMMs alone. OpenBLAS picks its kernel from OPENBLAS_CORETYPE; the kernel that ran is printed.
            """
    )

    @Option(help: "Batch size for the model's shapes.")
    var batch: Int = 128

    @Option(help: "Cores each matrix product is split over (default: all).")
    var threads: Int?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
    }

    func run() throws {
        if let threads { Threads.count = threads }
        var rows: [GEMMBenchmarkRow] = []
        if !json {
            Console.error(machineLine())
            print(pad("shape", 26) + pad("m", 9) + pad("n", 6) + pad("k", 6) + pad("ours GF/s", 11) + pad("cblas GF/s", 11) + "ratio")
        }
        for shape in GEMMBenchmark.standardShapes(batch: batch) {
            let row = GEMMBenchmark.measure(shape)
            rows.append(row)
            if !json {
                print(pad(row.label, 26) + pad("\(row.m)", 9) + pad("\(row.n)", 6) + pad("\(row.k)", 6)
                      + pad(fixed(row.oursGflops, 1), 11) + pad(fixed(row.cblasGflops, 1), 11) + fixed(row.ratio, 3))
            }
        }
        // The image tower's convolutions at batch 256: forward+backward against their GEMMs alone.
        _ = LargeAllocations.keepInProcess()
        var convolutions: [ConvolutionRow] = []
        if !json { print("\nconvolution b256 fwd+bwd   conv ms   GEMMs ms   ratio") }
        for (i, shape) in [(64, 3, 32), (32, 32, 64), (16, 64, 128), (8, 128, 256)].enumerated() {
            let (conv, gemms) = Conv2DBenchmark.run(batch: 256, height: shape.0, width: shape.0, cin: shape.1, cout: shape.2,
                                                    repeats: 2, propagatesInputGradient: i > 0)
            let row = ConvolutionRow(label: "conv\(i + 1) \(shape.0)×\(shape.0) \(shape.1)→\(shape.2)",
                                     convMilliseconds: conv * 1000, gemmMilliseconds: gemms * 1000)
            convolutions.append(row)
            if !json {
                print(pad(row.label, 27) + pad(fixed(row.convMilliseconds, 0), 10) + pad(fixed(row.gemmMilliseconds, 0), 11)
                      + fixed(row.convMilliseconds / row.gemmMilliseconds, 2))
            }
        }
        if json {
            struct Report: Encodable {
                let processor: String; let simd: [String]; let kernel: String; let threads: Int
                let rows: [GEMMBenchmarkRow]; let convolutions: [ConvolutionRow]
            }
            try Console.printJSON(Report(processor: Processor.current.name, simd: Processor.current.simdFeatures, kernel: BLASKernel.current, threads: Threads.count, rows: rows,
                                         convolutions: convolutions))
        }
    }
}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training pairs/s (forward, backward, AdamW) and where the time goes.",
        discussion: "Synthetic 64×64 pictures and captions of 4–16 tokens, as the PyTorch reference's --bench: the median of timed steps after warm-up, for the reference architecture unless --arch standard. Then inference (pictures and captions embedded per second without gradients, as indexing and queries run; the reference's infer rows) and a per-layer profile of one batch."
    )

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batch: [Int] = [128, 256]

    @Option(help: "Timed steps per batch size (after two warm-up steps).")
    var steps = 5

    @Option(help: "Batch of the inference measurement (the reference's --infer-batch).")
    var inferenceBatch = 256

    @OptionGroup var architecture: ArchitectureOptions

    @Flag(help: "Skip the per-layer profile.")
    var noProfile = false

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        _ = LargeAllocations.keepInProcess()
        // The reference architecture unless an architecture was asked for (as the reference's
        // --bench measures its default); the other architecture flags apply to either.
        var options = architecture
        if options.arch == nil && options.norm == nil && options.positionEmbeddings == nil { options.arch = .reference }
        let configuration = options.configuration
        if !json { Console.error(machineLine() + "; norm \(configuration.normalization.rawValue), position embeddings \(configuration.positionEmbeddings)") }
        var rows: [TrainingBenchmark.Row] = []
        for b in batch {
            let row = TrainingBenchmark.throughput(batch: b, configuration: configuration, steps: steps)
            rows.append(row)
            if !json { print("batch \(b): \(fixed(row.pairsPerSecond, 0)) pairs/s (\(fixed(row.stepSeconds * 1000, 0)) ms per step)") }
        }
        let inference = TrainingBenchmark.inference(batch: inferenceBatch, configuration: configuration, steps: steps)
        if !json {
            print("inference at batch \(inferenceBatch): \(fixed(inference.imagesPerSecond, 0)) images/s, \(fixed(inference.textsPerSecond, 0)) captions/s")
        }
        let profile = noProfile ? [] : TrainingBenchmark.profile(batch: batch.last ?? 128, configuration: configuration)
        if json {
            struct Report: Encodable {
                let processor: String; let simd: [String]; let kernel: String
                let rows: [TrainingBenchmark.Row]; let inference: TrainingBenchmark.InferenceRow
                let profile: [TrainingBenchmark.ProfileEntry]
            }
            try Console.printJSON(Report(processor: Processor.current.name, simd: Processor.current.simdFeatures, kernel: BLASKernel.current,
                                         rows: rows, inference: inference, profile: profile))
            return
        }
        if !profile.isEmpty {
            print("\nprofile at batch \(batch.last!) (ms):")
            print(pad("layer", 26) + pad("forward", 10) + "backward")
            for e in profile { print(pad(e.name, 26) + pad(fixed(e.forwardMilliseconds, 1), 10) + fixed(e.backwardMilliseconds, 1)) }
        }
    }
}

/// A convolution's forward+backward time beside the time of its GEMMs alone.
struct ConvolutionRow: Encodable {
    let label: String
    let convMilliseconds: Double
    let gemmMilliseconds: Double

    enum CodingKeys: String, CodingKey {
        case label, convMilliseconds = "conv_ms", gemmMilliseconds = "gemm_ms"
    }
}

/// "AMD EPYC 9B45 (avx512_bf16, avx512f, avx2, fma); OpenBLAS kernel Cooperlake (the best for
/// this processor); 2 threads": what every benchmark states before its figures.
func machineLine() -> String {
    let processor = Processor.current
    let features = processor.simdFeatures.prefix(6).joined(separator: ", ")
    return "\(processor.name)\(features.isEmpty ? "" : " (\(features))"); \(BLASKernel.summary()); \(Threads.count) threads"
}
