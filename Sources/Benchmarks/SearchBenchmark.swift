// Measures the indexes the way faiss_bench.py measures FAISS: flat q/s at query batches 1, 16,
// 1000 (k 10), IVF training time and recall@k against exact with q/s at several nprobe, and
// flat SQ8 recall and q/s, on generated clustered vectors or on .npy files. Returns figures only.
import Foundation
import Neural
import VectorIndex

public enum SearchBenchmark {
    public struct Configuration: Sendable {
        public var count = 1_000_000
        public var dimension = 256
        public var queries = 1000
        public var k = 10
        public var batchSizes = [1, 16, 1000]
        public var nprobes = [1, 4, 16, 32, 64, 128]
        public var listCount: Int? = nil
        public var kmeans = KMeans(clusters: 1)  // clusters replaced by the list count
        public var scalarQuantized = true
        /// The graph index: links per node (M), build beam, and the search beams to measure.
        public var graph = true
        public var graphNeighbors = 16
        public var graphEfConstruction = 100
        /// Walk 8-bit codes of the rows and re-score the beam's hits on the rows (the index's default).
        public var graphQuantized = true
        public var graphEfs = [16, 32, 64, 128, 256]
        /// Seconds per throughput measurement (at least one batch runs).
        public var budget = 3.0
        public var seed: UInt64 = 1234
        public var parameters = SearchParameters()
        public init() {
            kmeans.maxPointsPerCluster = 40  // faiss_bench.py's --train-mult
        }
    }

    public struct Throughput: Codable, Sendable {
        public var batch: Int
        public var queriesPerSecond: Double
    }

    public struct IVFRow: Codable, Sendable {
        public var nprobe: Int
        public var recall: Double
        public var batchedQueriesPerSecond: Double
        public var singleQueriesPerSecond: Double
    }

    public struct GraphRow: Codable, Sendable {
        public var ef: Int
        public var recall: Double
        public var batchedQueriesPerSecond: Double
        public var singleQueriesPerSecond: Double
    }

    public struct Report: Codable, Sendable {
        public var count: Int, dimension: Int, queries: Int, k: Int
        public var flat: [Throughput] = []
        public var listCount = 0
        public var trainSeconds = 0.0, addSeconds = 0.0
        public var inertia: [Double] = []
        public var ivf: [IVFRow] = []
        public var sq8Recall = 0.0
        public var sq8: [Throughput] = []
        public var graphBuildSeconds = 0.0
        public var graphBytesPerRow = 0.0
        public var graph: [GraphRow] = []
    }

    /// Clustered database and queries as faiss_bench.py draws them (latent 32, σ 1, ambient 0.2).
    public static func generate(count: Int, queries: Int, dimension: Int, seed: UInt64) -> (database: Tensor, queries: Tensor) {
        let mixture = ClusteredVectors(clusters: 1000, dimension: dimension, seed: seed)
        return (mixture.draw(count, seed: seed &+ 7), mixture.draw(queries, seed: seed &+ 11))
    }

    /// Runs every measurement; `progress` receives a line per figure (the CLI prints them).
    public static func run(_ config: Configuration, database given: Tensor? = nil, queries givenQ: Tensor? = nil,
                           progress: (String) -> Void = { _ in }) -> Report {
        let (db, qs): (Tensor, Tensor)
        if let given, let givenQ { (db, qs) = (given, givenQ) } else {
            (db, qs) = generate(count: config.count, queries: config.queries, dimension: config.dimension, seed: config.seed)
        }
        let k = config.k
        var report = Report(count: db.shape[0], dimension: db.shape[1], queries: qs.shape[0], k: k)
        var flat = FlatIndex(dimension: db.shape[1])
        flat.parameters = config.parameters
        flat.add(db)
        for b in config.batchSizes.sorted(by: >) {
            let qps = throughput(queries: qs, batch: b, budget: config.budget) { flat.search($0, k: k) }
            report.flat.append(Throughput(batch: b, queriesPerSecond: qps))
            progress("flat batch \(b): \(Int(qps)) q/s")
        }
        let truth = flat.search(qs, k: k)
        // IVF.
        var rng = SeededGenerator(seed: config.seed)
        var kmeans = config.kmeans
        kmeans.clusters = config.listCount ?? IVFIndex.defaultListCount(rows: db.shape[0])
        var start = Date()
        var (ivf, result) = IVFIndex.train(db, kmeans: kmeans, using: &rng)
        report.trainSeconds = Date().timeIntervalSince(start)
        report.inertia = result.inertia
        report.listCount = ivf.listCount
        ivf.parameters = config.parameters
        start = Date()
        ivf.add(db)
        report.addSeconds = Date().timeIntervalSince(start)
        progress("ivf nlist \(ivf.listCount): train \(report.trainSeconds) s, add \(report.addSeconds) s")
        for np in config.nprobes where np <= ivf.listCount {
            let found = ivf.search(qs, k: k, nprobe: np)
            let recall = SearchHit.recall(found, truth, k: k)
            let batched = throughput(queries: qs, batch: qs.shape[0], budget: config.budget) { ivf.search($0, k: k, nprobe: np) }
            let single = throughput(queries: qs, batch: 1, budget: config.budget / 3) { ivf.search($0, k: k, nprobe: np) }
            report.ivf.append(IVFRow(nprobe: np, recall: recall, batchedQueriesPerSecond: batched, singleQueriesPerSecond: single))
            progress("ivf nprobe \(np): R@\(k) \(recall), \(Int(batched)) q/s batched, \(Int(single)) q/s one at a time")
        }
        if config.graph { measureGraph(config, db, qs, truth: truth, into: &report, progress: progress) }
        if config.scalarQuantized {
            var sq = FlatIndex(quantizer: ScalarQuantizer(training: db))
            sq.parameters = config.parameters
            sq.add(db)
            report.sq8Recall = SearchHit.recall(sq.search(qs, k: k), truth, k: k)
            for b in config.batchSizes.sorted(by: >) {
                let qps = throughput(queries: qs, batch: b, budget: config.budget) { sq.search($0, k: k) }
                report.sq8.append(Throughput(batch: b, queriesPerSecond: qps))
                progress("sq8 batch \(b): \(Int(qps)) q/s (R@\(k) \(report.sq8Recall))")
            }
        }
        return report
    }

    /// The graph index: build time and memory, then recall and q/s (batched on every thread, and
    /// one query at a time) at each beam width.
    static func measureGraph(_ config: Configuration, _ db: Tensor, _ qs: Tensor, truth: [[SearchHit]],
                             into report: inout Report, progress: (String) -> Void) {
        let k = config.k
        let graph = GraphIndex(dimension: db.shape[1], neighbors: config.graphNeighbors,
                               efConstruction: config.graphEfConstruction, seed: config.seed,
                               quantized: config.graphQuantized)
        graph.parameters = config.parameters
        let start = Date()
        graph.add(db)
        report.graphBuildSeconds = Date().timeIntervalSince(start)
        report.graphBytesPerRow = graph.bytesPerRow
        progress("graph M \(config.graphNeighbors) efC \(config.graphEfConstruction): built in \(report.graphBuildSeconds) s, \(Int(graph.bytesPerRow)) bytes per row")
        for ef in config.graphEfs {
            let recall = SearchHit.recall(graph.search(qs, k: k, ef: ef), truth, k: k)
            let batched = throughput(queries: qs, batch: qs.shape[0], budget: config.budget) { graph.search($0, k: k, ef: ef) }
            let single = throughput(queries: qs, batch: 1, budget: config.budget / 2) { graph.search($0, k: k, ef: ef) }
            report.graph.append(GraphRow(ef: ef, recall: recall, batchedQueriesPerSecond: batched, singleQueriesPerSecond: single))
            progress("graph ef \(ef): R@\(k) \(recall), \(Int(batched)) q/s batched, \(Int(single)) q/s one at a time")
        }
    }

    /// Queries per second searching consecutive batches of `batch` rows (one untimed warm-up)
    /// until `budget` seconds pass or every query ran once.
    public static func throughput(queries: Tensor, batch: Int, budget: Double, _ search: (Tensor) -> [[SearchHit]]) -> Double {
        let q = queries.shape[0], d = queries.shape[1], b = max(1, min(batch, q))
        func slice(_ i: Int) -> Tensor {
            Tensor(shape: [b, d], data: Array(queries.data[(i * b * d)..<((i + 1) * b * d)]))
        }
        _ = search(slice(0))
        var elapsed = 0.0, done = 0
        for i in 0..<(q / b) {
            let batchQueries = slice(i)
            let start = DispatchTime.now().uptimeNanoseconds
            _ = search(batchQueries)
            elapsed += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            done += b
            if elapsed >= budget { break }
        }
        return Double(done) / max(elapsed, 1e-9)
    }
}
