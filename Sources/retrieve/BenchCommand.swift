// `retrieve bench …`: speed measurements printed as tables (or JSON for scripts).
// Benchmarks, not tests: run them with the environment you want to measure.
import ArgumentParser
import Foundation
import Neural

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure retrieve's speed on this machine.",
        subcommands: [GEMMBenchCommand.self, SearchBenchCommand.self]
    )
}

struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of retrieve's GEMM entry point beside a direct cblas_sgemm call.",
        discussion: """
            Times the model's real product shapes (im2col convolutions, projections, the
            similarity matrix) and squares 256…2048, alternating the two paths in one run.
            OpenBLAS picks its kernel from OPENBLAS_CORETYPE; the kernel that ran is printed.
            """
    )

    @Option(help: "Batch size for the model's shapes.")
    var batch: Int = 128

    @Option(help: "OpenBLAS threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
    }

    func run() throws {
        if let threads { BLASThreads.set(threads) }
        var rows: [GEMMBenchmarkRow] = []
        if !json {
            Console.error("OpenBLAS kernel \(BLASThreads.coreName), \(BLASThreads.current) threads")
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
        if json {
            struct Report: Encodable { let kernel: String; let threads: Int; let rows: [GEMMBenchmarkRow] }
            try Console.printJSON(Report(kernel: BLASThreads.coreName, threads: BLASThreads.current, rows: rows))
        }
    }
}
