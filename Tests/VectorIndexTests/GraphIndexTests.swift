// GraphIndex (HNSW): recall against brute force on clustered data, better with a wider beam,
// the same after adding in two batches as in one, exact on tiny sets, searched from several
// threads, and a stated memory per row.
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

    @Test func recallIsHighAndGrowsWithTheBeam() {
        let (db, queries) = Self.clustered(n: 20000, q: 200)
        let graph = GraphIndex(dimension: 32, neighbors: 16, efConstruction: 100)
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

    @Test func addingInTwoBatchesSearchesAsWellAsOne() {
        let (db, queries) = Self.clustered(n: 8000, q: 100)
        let graph = GraphIndex(dimension: 32)
        graph.add(Tensor(shape: [3000, 32], data: Array(db.data[0..<(3000 * 32)])))
        graph.add(Tensor(shape: [5000, 32], data: Array(db.data[(3000 * 32)...])))
        #expect(graph.count == 8000)
        let recall = SearchHit.recall(graph.search(queries, k: 10, ef: 96), Self.truth(db, queries, k: 10), k: 10)
        #expect(recall >= 0.97, "recall@10 after two adds: \(recall)")
    }

    @Test func tinySetsAreExact() {
        let db = S.integerMatrix(30, 8, seed: 3), queries = S.integerMatrix(5, 8, seed: 4)
        let graph = GraphIndex(dimension: 8, neighbors: 4, efConstruction: 8)
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

    @Test func oneThreadAndTwoGiveTheSameResults() {
        let (db, queries) = Self.clustered(n: 5000, q: 64)
        let graph = GraphIndex(dimension: 32)
        graph.add(db)
        graph.parameters.threads = 1
        let one = graph.search(queries, k: 10)
        graph.parameters.threads = 2
        #expect(graph.search(queries, k: 10) == one)
    }
}
