import Testing
@testable import Neural

struct NormalizationTests {
    @Test func layerNormGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 61)
        let ln = LayerNorm(dimension: 7, name: "ln")
        ln.weight.value = Tensor(randomNormal: [7], std: 1, using: &rng)
        ln.bias.value = Tensor(randomNormal: [7], std: 1, using: &rng)
        GradientCheck.check(ln, input: Tensor(randomNormal: [3, 5, 7], std: 1, using: &rng))
    }

    @Test func layerNormRowsHaveZeroMeanAndUnitVariance() {
        var rng = SeededGenerator(seed: 62)
        let y = LayerNorm(dimension: 16, name: "ln")(Tensor(randomNormal: [4, 16], std: 3, using: &rng))
        for r in 0..<4 {
            let row = y.data[(r * 16)..<((r + 1) * 16)]
            let mean = row.reduce(0, +) / 16
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3)
        }
    }

    @Test func l2NormalizeGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 63)
        GradientCheck.check(L2Normalize(), input: Tensor(randomNormal: [3, 7], std: 1, using: &rng), h: 1e-3)
    }

    @Test func l2NormalizeGivesUnitRowsAndSurvivesZeroRows() {
        let l2 = L2Normalize()
        let y = l2(Tensor(shape: [2, 2], data: [3, 4, 0, 0]))
        #expect(y.data == [0.6, 0.8, 0, 0])
        let dx = l2.backward(Tensor(shape: [2, 2], data: [1, 1, 1, 1]))
        #expect(dx.isFinite)
        // Along y the row cannot grow: the gradient is orthogonal to it.
        #expect(abs(dx[0] * 0.6 + dx[1] * 0.8) < 1e-6)
    }
}
