// IVFIndex: probing every list is exact, a moderate nprobe keeps recall high on clustered data,
// the scan and list-major paths agree, SQ8 lists work, restoring from accessors answers alike,
// and k-means lowers its objective.
import Testing
import Neural
@testable import VectorIndex

struct IndexIVFTests {
    typealias S = IndexTestSupport

    static func clustered(n: Int, q: Int) -> (Tensor, Tensor) {
        let mixture = ClusteredVectors(clusters: 40, dimension: 32, latentDimension: 8, seed: 21)
        return (mixture.draw(n, seed: 1), mixture.draw(q, seed: 2))
    }

    @Test(arguments: [1, 1000])
    func probingEveryListIsExact(smallQueryLimit: Int) {
        let db = S.integerMatrix(700, 12, seed: 4), queries = S.integerMatrix(9, 12, seed: 5)
        var rng = SeededGenerator(seed: 1)
        var (ivf, _) = IVFIndex.train(db, listCount: 13, using: &rng)
        ivf.parameters = S.tinyBlocks(smallQueryLimit: smallQueryLimit)
        ivf.add(db)
        #expect(ivf.count == 700 && ivf.listOffsets.last == 700)
        #expect(ivf.search(queries, k: 10, nprobe: 13) == S.bruteForce(db, queries, k: 10))
    }

    @Test func moderateNprobeKeepsRecallHigh() {
        let (db, queries) = Self.clustered(n: 20000, q: 100)
        var rng = SeededGenerator(seed: 2)
        var (ivf, _) = IVFIndex.train(db, using: &rng)
        ivf.add(db)
        #expect(ivf.listCount == 566)
        var flat = FlatIndex(dimension: 32)
        flat.add(db)
        let truth = flat.search(queries, k: 10)
        let r1 = SearchHit.recall(ivf.search(queries, k: 10, nprobe: 1), truth, k: 10)
        let r32 = SearchHit.recall(ivf.search(queries, k: 10, nprobe: 32), truth, k: 10)
        #expect(r32 >= 0.9, "recall@10 at nprobe 32: \(r32)")
        #expect(r32 > r1, "nprobe 32 (\(r32)) should beat nprobe 1 (\(r1))")
    }

    @Test func scanAndListMajorPathsAgree() {
        let (db, queries) = Self.clustered(n: 3000, q: 20)
        var rng = SeededGenerator(seed: 3)
        var (ivf, _) = IVFIndex.train(db, listCount: 30, using: &rng)
        ivf.add(db)
        ivf.parameters = S.tinyBlocks(smallQueryLimit: 1000)
        let scanned = ivf.search(queries, k: 10, nprobe: 5)
        ivf.parameters = S.tinyBlocks(smallQueryLimit: 1)
        let listMajor = ivf.search(queries, k: 10, nprobe: 5)
        for (a, b) in zip(scanned, listMajor) {
            #expect(a.map(\.id) == b.map(\.id))
            for (x, y) in zip(a, b) { #expect(abs(x.score - y.score) < 1e-4) }
        }
    }

    @Test(arguments: [1, 1000])
    func scalarQuantizedListsKeepRecall(smallQueryLimit: Int) {
        let (db, queries) = Self.clustered(n: 5000, q: 40)
        var rng = SeededGenerator(seed: 4)
        var (ivf, _) = IVFIndex.train(db, listCount: 40, scalarQuantized: true, using: &rng)
        ivf.parameters = S.tinyBlocks(smallQueryLimit: smallQueryLimit)
        ivf.add(db)
        #expect(ivf.listCodes.count == 5000 * 32 && ivf.listRows.count == 0)
        var flat = FlatIndex(dimension: 32)
        flat.add(db)
        let recall = SearchHit.recall(ivf.search(queries, k: 10, nprobe: 40), flat.search(queries, k: 10), k: 10)
        #expect(recall >= 0.9, "IVF-SQ8 recall@10 at nprobe = nlist: \(recall)")
    }

    @Test func addingInTwoBatchesEqualsOneAndRestoresFromAccessors() {
        let db = S.integerMatrix(400, 8, seed: 6), queries = S.integerMatrix(5, 8, seed: 7)
        var rng = SeededGenerator(seed: 5)
        var (whole, _) = IVFIndex.train(db, listCount: 7, using: &rng)
        var parts = whole
        whole.add(db)
        parts.add(Tensor(shape: [150, 8], data: Array(db.data[0..<(150 * 8)])))
        parts.add(Tensor(shape: [250, 8], data: Array(db.data[(150 * 8)...])))
        #expect(parts.listIDs.array == whole.listIDs.array)
        #expect(parts.search(queries, k: 6, nprobe: 3) == whole.search(queries, k: 6, nprobe: 3))
        let restored = IVFIndex(centroids: whole.centroids, quantizer: nil, listOffsets: whole.listOffsets,
                                listIDs: RowStorage(whole.listIDs.array), listRows: RowStorage(whole.listRows.array),
                                listCodes: RowStorage())
        #expect(restored.search(queries, k: 6, nprobe: 3) == whole.search(queries, k: 6, nprobe: 3))
    }

    @Test(arguments: [false, true])
    func kmeansLowersInertia(spherical: Bool) {
        let (db, _) = Self.clustered(n: 4000, q: 1)
        var km = KMeans(clusters: 40)
        km.iterations = 8
        km.spherical = spherical
        km.assignBlock = 333
        var rng = SeededGenerator(seed: 6)
        let result = db.withUnsafeBufferPointer { km.train($0.baseAddress!, count: 4000, dimension: 32, using: &rng) }
        #expect(result.inertia.count == 8)
        #expect(result.inertia.last! < 0.8 * result.inertia.first!, "inertia \(result.inertia)")
        for (a, b) in zip(result.inertia, result.inertia.dropFirst()) { #expect(b <= a * (1 + 1e-4)) }
        #expect(result.centroids.isFinite)
    }
}
