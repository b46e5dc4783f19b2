// `retrieve bench search`: flat, IVF and graph search speed and recall on clustered unit vectors (or
// given .npy files), and the time to open an index file of them and answer one query.
import ArgumentParser
import Foundation
import Neural
import Search
import Benchmarks
import VectorIndex

struct SearchBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Queries/s and recall@10 of exact, IVF and graph search, and index load time.",
        discussion: """
            Flat q/s with 1 query at a time, 16 and all Q at once. IVF (nlist ≈ 4·√N) and the graph (HNSW, --graph-neighbors M, --graph-ef-construction) each give recall@10 against exact search and q/s one query at a time (one thread) and batched (every thread), at each --nprobe and each --ef; the graph also gives its build time and bytes per row. load_s is the time to open an index file of the vectors, every checksum checked, and answer one query.

            --db and --queries-file run on given float32 .npy arrays (e.g. the vectors faiss_bench.py saved), so FAISS and hnswlib (../shared/bench/hnsw_bench.py) can be compared on the same data.

            --json prints one object:
              {"flat": [{"queries": Q, "qps": …}],
               "ivf": [{"nprobe": …, "qps": …, "qps_batched": …, "recall10": …}],
               "graph": [{"ef": …, "recall": …, "singleQueriesPerSecond": …,
                          "batchedQueriesPerSecond": …}],
               "graph_build_s": …, "graph_bytes_per_row": …, "load_s": …,
               "nlist": …, "train_s": …, "add_s": …}

            \(ExitStatus.table)
            """
    )

    @Option(help: "Database rows (generated).")
    var rows = 1_000_000

    @Option(help: "Dimension (generated).")
    var dim = 256

    @Option(help: "Queries (generated).")
    var queries = 1000

    @Option(help: ArgumentHelp("Database vectors (.npy, float32, 2-D).", valueName: "file.npy"))
    var db: String?

    @Option(help: ArgumentHelp("Query vectors (.npy), with --db.", valueName: "file.npy"))
    var queriesFile: String?

    @Option(parsing: .upToNextOption, help: "nprobe values for IVF.")
    var nprobe: [Int] = [8, 16, 32, 64, 128]

    @Option(parsing: .upToNextOption, help: "Flat query batch sizes (default: 1, 16 and all queries).")
    var flatBatches: [Int] = []

    @Option(help: "Search and k-means threads (default: every core).")
    var threads: Int?

    @Option(parsing: .upToNextOption, help: "Beam widths (ef) for the graph index.")
    var ef: [Int] = [16, 32, 64, 128, 256]

    @Option(help: "Links per node (M) of the graph index.")
    var graphNeighbors = 16

    @Option(help: "Build beam (efConstruction) of the graph index.")
    var graphEfConstruction = 100

    @Flag(help: "The graph walks its Float32 rows, not the 8-bit codes `retrieve index` walks.")
    var graphFloatWalk = false

    @Flag(help: "Leave the graph index out.")
    var noGraph = false

    @Option(help: "Seconds per throughput figure.")
    var budget = 2.0

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard rows > 0, dim > 0, queries > 0 else { throw ValidationError("--rows, --dim and --queries must be positive") }
        guard flatBatches.allSatisfy({ $0 > 0 }), threads.map({ $0 > 0 }) ?? true else {
            throw ValidationError("--flat-batches and --threads must be positive")
        }
        guard (db == nil) == (queriesFile == nil) else { throw ValidationError("--db and --queries-file go together") }
    }

    func run() throws {
        LargeAllocations.keepInProcess()
        var config = SearchBenchmark.Configuration()
        config.count = rows
        config.dimension = dim
        config.queries = queries
        config.nprobes = nprobe
        config.batchSizes = flatBatches.isEmpty ? Array(Set([1, min(16, queries), queries])).sorted() : flatBatches
        if let threads {
            config.parameters.threads = threads
            config.kmeans.threads = threads
        }
        config.budget = budget
        config.scalarQuantized = false
        (config.graph, config.graphEfs) = (!noGraph, ef)
        (config.graphNeighbors, config.graphEfConstruction) = (graphNeighbors, graphEfConstruction)
        config.graphQuantized = !graphFloatWalk
        var database: Tensor?, queryVectors: Tensor?
        if let db, let queriesFile {
            database = try NPYReader.read(path: db)
            queryVectors = try NPYReader.read(path: queriesFile)
        }
        let report = SearchBenchmark.run(config, database: database, queries: queryVectors,
                                         progress: { if !json { Console.error($0) } })
        let (dbTensor, queryTensor) = database.map { ($0, queryVectors!) }
            ?? SearchBenchmark.generate(count: rows, queries: 1, dimension: dim, seed: config.seed)
        let load = try loadSeconds(dbTensor, query: queryTensor)
        let result = Result(flat: report.flat.map { .init(queries: $0.batch, qps: $0.queriesPerSecond) },
                            ivf: report.ivf.map { .init(nprobe: $0.nprobe, qps: $0.singleQueriesPerSecond,
                                                        qps_batched: $0.batchedQueriesPerSecond, recall10: $0.recall) },
                            load_s: load, nlist: report.listCount, train_s: report.trainSeconds,
                            add_s: report.addSeconds, graph: report.graph, graph_build_s: report.graphBuildSeconds,
                            graph_bytes_per_row: report.graphBytesPerRow)
        if json { return try Console.printJSON(result) }
        print(machineLine())
        print("\(report.count) rows × \(report.dimension), \(report.queries) queries, k \(report.k)")
        print(pad("flat queries", 14) + "q/s")
        for f in result.flat { print(pad("\(f.queries)", 14) + fixed(f.qps, 1)) }
        print("IVF nlist \(report.listCount), trained in \(fixed(report.trainSeconds, 1)) s, rows added in \(fixed(report.addSeconds, 1)) s")
        print(pad("nprobe", 8) + pad("recall@10", 11) + pad("q/s (1 at a time)", 19) + "q/s (batch)")
        for r in result.ivf { print(pad("\(r.nprobe)", 8) + pad(fixed(r.recall10, 3), 11) + pad(fixed(r.qps, 0), 19) + fixed(r.qps_batched, 0)) }
        if !report.graph.isEmpty {
            print("graph M \(graphNeighbors) efC \(graphEfConstruction)\(graphFloatWalk ? ", Float32 walk" : ", walk on 8-bit codes"), built in \(fixed(report.graphBuildSeconds, 1)) s, \(fixed(report.graphBytesPerRow, 0)) bytes per row")
            print(pad("ef", 8) + pad("recall@10", 11) + pad("q/s (1 at a time)", 19) + "q/s (batch)")
            for r in report.graph {
                print(pad("\(r.ef)", 8) + pad(fixed(r.recall, 3), 11) + pad(fixed(r.singleQueriesPerSecond, 0), 19) + fixed(r.batchedQueriesPerSecond, 0))
            }
        }
        print("index file open + one query: \(fixed(load, 3)) s")
    }

    /// Writes a flat index file of `database`, then times opening it and answering one query.
    private func loadSeconds(_ database: Tensor, query: Tensor) throws -> Double {
        let d = database.shape[1]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bench.rtrv")
        var exact = IndexBuildOptions()
        exact.mode = .exact
        try IndexFile.write(vectors: database, to: url, name: { "row-\($0)" }, options: exact)
        let one = Tensor(shape: [1, d], data: Array(query.data[0..<d]))
        let start = DispatchTime.now().uptimeNanoseconds
        let contents = try IndexFile.read(from: url)
        if case .flat(let flat) = contents.storage { _ = flat.search(one, k: 10).first.map { contents.files[$0[0].id] } }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    struct Result: Encodable {
        struct Flat: Encodable { let queries: Int; let qps: Double }
        struct IVF: Encodable { let nprobe: Int; let qps: Double; let qps_batched: Double; let recall10: Double }
        let flat: [Flat]
        let ivf: [IVF]
        let load_s: Double
        let nlist: Int
        let train_s: Double
        let add_s: Double
        let graph: [SearchBenchmark.GraphRow]
        let graph_build_s: Double
        let graph_bytes_per_row: Double
    }
}
