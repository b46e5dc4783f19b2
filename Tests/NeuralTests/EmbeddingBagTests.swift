import Testing
@testable import Neural

struct EmbeddingBagTests {
    @Test func gradientsMatchFiniteDifferencesAndStaySparse() {
        var rng = SeededGenerator(seed: 81)
        let bag = EmbeddingBag(rows: 13, dimension: 4, std: 1, name: "text.subwords", rng: &rng)
        // Four bags: {2, 5, 5}, {}, {7}, {2, 11}: a repeated id, an empty bag, a shared row.
        let ids: [Int32] = [2, 5, 5, 7, 2, 11], offsets: [Int32] = [0, 3, 3, 4, 6]
        GradientCheck.check(input: Tensor(zeros: [0]), parameters: bag.parameters,
                            forward: { _ in bag.forward(ids: ids, offsets: offsets) },
                            backward: { bag.backward($0); return nil })
        #expect(bag.weight.touchedRows == [2, 5, 7, 11])
        for row in [0, 1, 3, 4, 6, 8, 9, 10, 12] {
            #expect(bag.weight.gradient.data[(row * 4)..<(row * 4 + 4)].allSatisfy { $0 == 0 }, "row \(row)")
        }
    }

    @Test func eachRowIsTheMeanOfItsBagAndAnEmptyBagIsZero() {
        var rng = SeededGenerator(seed: 82)
        let bag = EmbeddingBag(rows: 5, dimension: 2, std: 1, name: "b", rng: &rng)
        let y = bag.forward(ids: [1, 3, 4], offsets: [0, 2, 2, 3])
        let w = bag.weight.value.data
        #expect(y.shape == [3, 2])
        for j in 0..<2 { #expect(abs(y.data[j] - (w[2 + j] + w[6 + j]) / 2) < 1e-6) }
        #expect(y.data[2] == 0 && y.data[3] == 0)
        #expect(y.data[4] == w[8] && y.data[5] == w[9])
    }
}
