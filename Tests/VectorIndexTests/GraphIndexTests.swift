// GraphIndex (HNSW): recall against brute force on clustered data, better with a wider beam,
// the same after adding in two batches as in one, exact on tiny sets, searched from several
// threads, and a stated memory per row; each for a graph that walks 8-bit codes too, which
// must return the rows' exact scores and recode every row when new rows widen its ranges.
import Testing
import Neural
@testable import VectorIndex

struct GraphIndexTests {
    typealias S = IndexTestSupport

    static func clustered(n: Int, q: Int, d: Int = 32) -> (Tensor, Tensor) {
        let mixture = ClusteredVectors(clusters: 40, dimension: d, latentDimension: 8, seed: 21)
        return (mixture.draw(n, seed: 1), mixture.draw(q, seed: 2))
    }

    static func truth(_ db: Tensor, _ queries: Tensor, k: Int) -> [[SearchHit]] {
        var flat = FlatIndex(dimension: db.shape[1])
        flat.add(db)
        return flat.search(queries, k: k)
    }

    @Test(arguments: [false, true]) func recallIsHighAndGrowsWithTheBeam(quantized: Bool) {
        let (db, queries) = Self.clustered(n: 20000, q: 200)
        let graph = GraphIndex(dimension: 32, neighbors: 16, efConstruction: 100, quantized: quantized)
        graph.add(db)
        #expect(graph.count == 20000 && graph.topLevel >= 1)
        let truth = Self.truth(db, queries, k: 10)
        let narrow = SearchHit.recall(graph.search(queries, k: 10, ef: 10), truth, k: 10)
        let wide = SearchHit.recall(graph.search(queries, k: 10, ef: 128), truth, k: 10)
        print("graph recall@10: ef 10 \(narrow), ef 128 \(wide); \(graph.bytesPerRow) bytes per row")
        #expect(wide >= 0.97, "recall@10 at ef 128: \(wide)")
        #expect(wide > narrow)
        // Scores are the rows' inner products with the query, best first.
        let hits = graph.search(queries, k: 10)[0]
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
        #expect(abs(hits[0].score - truth[0][0].score) < 1e-4 || hits[0].id != truth[0][0].id)
    }

    @Test(arguments: [false, true]) func addingInTwoBatchesSearchesAsWellAsOne(quantized: Bool) {
        let (db, queries) = Self.clustered(n: 8000, q: 100)
        let graph = GraphIndex(dimension: 32, quantized: quantized)
        graph.add(Tensor(shape: [3000, 32], data: Array(db.data[0..<(3000 * 32)])))
        graph.add(Tensor(shape: [5000, 32], data: Array(db.data[(3000 * 32)...])))
        #expect(graph.count == 8000)
        let recall = SearchHit.recall(graph.search(queries, k: 10, ef: 96), Self.truth(db, queries, k: 10), k: 10)
        #expect(recall >= 0.97, "recall@10 after two adds: \(recall)")
    }

    @Test(arguments: [false, true]) func tinySetsAreExact(quantized: Bool) {
        let db = S.integerMatrix(30, 8, seed: 3), queries = S.integerMatrix(5, 8, seed: 4)
        let graph = GraphIndex(dimension: 8, neighbors: 4, efConstruction: 8, quantized: quantized)
        graph.add(Tensor(shape: [1, 8], data: Array(db.data[0..<8])))
        #expect(graph.search(queries, k: 3).allSatisfy { $0.map(\.id) == [0] })
        graph.add(Tensor(shape: [29, 8], data: Array(db.data[8...])))
        // Integer rows tie often: the same scores, in whatever order ties fall.
        #expect(graph.search(queries, k: 10, ef: 30).map { $0.map(\.score) } == S.bruteForce(db, queries, k: 10).map { $0.map(\.score) })
        #expect(GraphIndex(dimension: 8).search(queries, k: 3).allSatisfy { $0.isEmpty })
    }

    @Test func searchesPastTheVisitedStampsWrapFindTheSame() {
        // Stamps are 16-bit: every 65,535 searches of one workspace they are cleared and start
        // again; a stale stamp would hide a node from the search after that.
        let (db, queries) = Self.clustered(n: 300, q: 4)
        let graph = GraphIndex(dimension: 32)
        graph.add(db)
        graph.parameters.threads = 1
        let first = graph.search(queries, k: 10, ef: 16)
        let one = Tensor(shape: [1, 32], data: Array(queries.data[0..<32]))
        for _ in 0..<70_000 { _ = graph.search(one, k: 1, ef: 16) }
        #expect(graph.search(queries, k: 10, ef: 16) == first)
    }

    @Test(arguments: [false, true]) func oneThreadAndTwoGiveTheSameResults(quantized: Bool) {
        let (db, queries) = Self.clustered(n: 5000, q: 64)
        let graph = GraphIndex(dimension: 32, quantized: quantized)
        graph.add(db)
        graph.parameters.threads = 1
        let one = graph.search(queries, k: 10)
        graph.parameters.threads = 2
        #expect(graph.search(queries, k: 10) == one)
    }

    @Test func aQuantisedGraphReturnsTheRowsExactScores() {
        let (db, queries) = Self.clustered(n: 6000, q: 50)
        let graph = GraphIndex(dimension: 32, quantized: true)
        graph.add(db)
        #expect(graph.codes.count == 6000 * 32 && graph.bytesPerRow > GraphIndex(dimension: 32).bytesPerRow)
        for (i, hits) in graph.search(queries, k: 10, ef: 64).enumerated() {
            #expect(hits.count == 10)
            for hit in hits {
                var dot: Float = 0
                for j in 0..<32 { dot += queries.data[i * 32 + j] * db.data[hit.id * 32 + j] }
                #expect(abs(hit.score - dot) < 1e-5, "query \(i), row \(hit.id): \(hit.score) vs \(dot)")
            }
            #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
        }
    }

    @Test func rowsOutsideTheRangesRecodeEveryRow() {
        let (db, queries) = Self.clustered(n: 4000, q: 50)
        let graph = GraphIndex(dimension: 32, quantized: true)
        graph.add(Tensor(shape: [2000, 32], data: Array(db.data[0..<(2000 * 32)])))
        let first = graph.quantizer!
        // The second half scaled up: its values leave the first half's ranges.
        let wider = db.data[(2000 * 32)...].map { $0 * 3 }
        graph.add(Tensor(shape: [2000, 32], data: wider))
        let all = Array(db.data[0..<(2000 * 32)]) + wider
        #expect(graph.quantizer != first && graph.quantizer!.covers(first))
        #expect(graph.codes.array == graph.quantizer!.encode(all, count: 4000))
        let truth = Self.truth(Tensor(shape: [4000, 32], data: all), queries, k: 10)
        let recall = SearchHit.recall(graph.search(queries, k: 10, ef: 96), truth, k: 10)
        #expect(recall >= 0.97, "recall@10 after widening: \(recall)")
        // Rows inside the ranges are coded with them, nothing recoded.
        let before = graph.quantizer
        graph.add(Tensor(shape: [1, 32], data: Array(db.data[0..<32])))
        #expect(graph.quantizer == before && graph.codes.count == 4001 * 32)
    }
}
