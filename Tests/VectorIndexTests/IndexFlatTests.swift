// FlatIndex: exact search equals a Double brute force on both paths (GEMM blocks and SIMD scan)
// with tiny blocks, ties broken by id, k > n, empty index, SQ8 recall, mapped storage.
import Foundation
import Testing
import Neural
@testable import VectorIndex

struct IndexFlatTests {
    typealias S = IndexTestSupport

    static let shapes: [(n: Int, d: Int, q: Int, k: Int)] = [
        (1, 1, 1, 1), (37, 5, 3, 4), (100, 17, 9, 10), (1000, 33, 20, 7), (523, 64, 1, 10), (50, 8, 13, 60),
    ]

    @Test(arguments: [1, 1000], [1, 2])
    func exactSearchMatchesBruteForce(smallQueryLimit: Int, threads: Int) {
        for (caseIndex, s) in Self.shapes.enumerated() {
            let db = S.integerMatrix(s.n, s.d, seed: UInt64(caseIndex))
            let queries = S.integerMatrix(s.q, s.d, seed: UInt64(100 + caseIndex))
            var index = FlatIndex(dimension: s.d)
            index.parameters = S.tinyBlocks(threads: threads, smallQueryLimit: smallQueryLimit)
            index.add(db)
            let found = index.search(queries, k: s.k)
            let expected = S.bruteForce(db, queries, k: s.k)
            #expect(found == expected, "n=\(s.n) d=\(s.d) q=\(s.q) k=\(s.k) smallQueryLimit=\(smallQueryLimit)")
            #expect(found.allSatisfy { $0.count == min(s.k, s.n) })
        }
    }

    @Test func singleAndBatchedPathsAgreeOnFloatData() {
        var rng = SeededGenerator(seed: 3)
        let db = Tensor(randomNormal: [2000, 48], std: 1, using: &rng)
        let queries = Tensor(randomNormal: [12, 48], std: 1, using: &rng)
        var index = FlatIndex(dimension: 48)
        index.add(db)
        index.parameters = S.tinyBlocks(smallQueryLimit: 1000)
        let scanned = index.search(queries, k: 10)
        index.parameters = S.tinyBlocks(smallQueryLimit: 1)
        let blocked = index.search(queries, k: 10)
        for (a, b) in zip(scanned, blocked) {
            #expect(a.map(\.id) == b.map(\.id))
            for (x, y) in zip(a, b) { #expect(abs(x.score - y.score) < 1e-4) }
        }
    }

    @Test func equalScoresRankLowerIDFirst() {
        // Eight identical rows and two better ones: ties must come back in id order.
        var rows = [Float](repeating: 1, count: 10 * 4)
        for x in 0..<4 { rows[3 * 4 + x] = 2; rows[7 * 4 + x] = 3 }
        var index = FlatIndex(dimension: 4)
        index.add(Tensor(shape: [10, 4], data: rows))
        for limit in [1, 1000] {
            index.parameters = S.tinyBlocks(smallQueryLimit: limit)
            let hits = index.search(Tensor(shape: [1, 4], repeating: 1), k: 5)[0]
            #expect(hits.map(\.id) == [7, 3, 0, 1, 2])
            #expect(hits.map(\.score) == [12, 8, 4, 4, 4])
        }
    }

    @Test func emptyIndexAndZeroKGiveEmptyResults() {
        var index = FlatIndex(dimension: 3)
        #expect(index.search(Tensor(zeros: [2, 3]), k: 5) == [[], []])
        index.add(Tensor(shape: [2, 3], data: [1, 0, 0, 0, 1, 0]))
        #expect(index.count == 2)
        #expect(index.search(Tensor(zeros: [1, 3]), k: 0) == [[]])
        index.reset()
        #expect(index.count == 0)
        #expect(index.search(Tensor(shape: [1, 3], data: [1, 0, 0]), k: 1) == [[]])
    }

    @Test(arguments: [1, 1000])
    func scalarQuantizedRecallIsHighOnClusteredData(smallQueryLimit: Int) {
        let mixture = ClusteredVectors(clusters: 50, dimension: 64, latentDimension: 16, seed: 5)
        let db = mixture.draw(5000, seed: 1), queries = mixture.draw(50, seed: 2)
        var exact = FlatIndex(dimension: 64)
        exact.add(db)
        var sq = FlatIndex(quantizer: ScalarQuantizer(training: db))
        sq.parameters = S.tinyBlocks(smallQueryLimit: smallQueryLimit)
        sq.parameters.rowBlock = 333
        sq.add(db)
        #expect(sq.codes.count == 5000 * 64 && sq.rows.count == 0)  // one byte per value
        let recall = SearchHit.recall(sq.search(queries, k: 10), exact.search(queries, k: 10), k: 10)
        #expect(recall >= 0.9, "SQ8 recall@10 \(recall)")
    }

    @Test func indexOverMappedRowsAnswersLikeTheOriginal() throws {
        let db = S.integerMatrix(300, 16, seed: 9), queries = S.integerMatrix(4, 16, seed: 10)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flat-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try db.data.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
        let file = try MappedFile(path: path)
        let mapped = FlatIndex(dimension: 16, rows: file.storage(of: Float.self, offset: 0, count: 300 * 16))
        #expect(mapped.rows.isBorrowed)
        var original = FlatIndex(dimension: 16)
        original.add(db)
        #expect(mapped.search(queries, k: 7) == original.search(queries, k: 7))
    }
}
