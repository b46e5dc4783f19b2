import Testing
@testable import Neural

struct EmbeddingTests {
    @Test func gradientsMatchFiniteDifferencesAndStaySparse() {
        var rng = SeededGenerator(seed: 71)
        let embedding = Embedding(vocabularySize: 11, dimension: 5, std: 1, name: "text.tokens", rng: &rng)
        let ids: [Int32] = [3, 0, 7, 3, 1, 0, 0, 9]  // (2, 4) with padding 0
        GradientCheck.check(input: Tensor(zeros: [0]), parameters: embedding.parameters,
                            forward: { _ in embedding.forward(ids, batch: 2, length: 4) },
                            backward: { embedding.backward($0); return nil })
        #expect(embedding.weight.touchedRows == [1, 3, 7, 9])
        let w = embedding.weight
        for row in [0, 2, 4, 5, 6, 8, 10] {
            #expect(w.gradient.data[(row * 5)..<(row * 5 + 5)].allSatisfy { $0 == 0 }, "row \(row)")
        }
    }

    @Test func paddingRowIsZeroFrozenAndNeverTouched() {
        var rng = SeededGenerator(seed: 72)
        let embedding = Embedding(vocabularySize: 6, dimension: 3, name: "e", rng: &rng)
        #expect(embedding.weight.frozenRows == [0])
        #expect(embedding.weight.role == .embedding)
        let y = embedding.forward([0, 2, 0, 5], batch: 1, length: 4)
        #expect(y.shape == [1, 4, 3])
        #expect(y.data[0..<3].allSatisfy { $0 == 0 } && y.data[6..<9].allSatisfy { $0 == 0 })
        #expect(Array(y.data[3..<6]) == Array(embedding.weight.value.data[6..<9]))
        embedding.backward(Tensor(shape: [1, 4, 3], repeating: 1))
        #expect(embedding.weight.touchedRows == [2, 5])
        #expect(embedding.weight.gradient.data[0..<3].allSatisfy { $0 == 0 })
        embedding.zeroGradients()
        #expect(embedding.weight.touchedRows == [] && embedding.weight.gradient.data.allSatisfy { $0 == 0 })
    }
}
