import Testing
@testable import Neural

struct PoolingTests {
    @Test(arguments: [(2, 2), (3, 2), (2, 1)])
    func maxPoolGradientsMatchFiniteDifferences(kernelAndStride: (Int, Int)) {
        var rng = SeededGenerator(seed: 41)
        let pool = MaxPool2D(kernelSize: kernelAndStride.0, stride: kernelAndStride.1)
        // Values 0.05 apart: no window holds two candidates within h = 0.01 of each other.
        GradientCheck.check(pool, input: TestInputs.distinct([3, 7, 5, 5], rng: &rng))
    }

    @Test func maxPoolPicksWindowMaximaAndRoutesGradients() {
        // One channel, 4×4 → 2×2; the odd 5th column is dropped (floor).
        let x = Tensor(shape: [1, 4, 5, 1], data: [1, 5, 2, 0, 9,
                                                   3, 4, 8, 1, 9,
                                                   0, 0, 1, 1, 9,
                                                   7, 0, 1, 6, 9])
        let pool = MaxPool2D()
        let y = pool(x)
        #expect(y.shape == [1, 2, 2, 1])
        #expect(y.data == [5, 8, 7, 6])
        let dx = pool.backward(Tensor(shape: [1, 2, 2, 1], data: [1, 2, 3, 4]))
        #expect(dx.data == [0, 1, 0, 0, 0,
                            0, 0, 2, 0, 0,
                            0, 0, 0, 0, 0,
                            3, 0, 0, 4, 0])
    }

    @Test func globalAveragePoolGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 42)
        GradientCheck.check(GlobalAveragePool(), input: Tensor(randomNormal: [3, 7, 5, 5], std: 1, using: &rng))
    }

    @Test func globalAveragePoolAveragesEachChannel() {
        let x = Tensor(shape: [1, 2, 2, 2], data: [1, 10, 2, 20, 3, 30, 4, 40])
        #expect(GlobalAveragePool()(x).data == [2.5, 25])
    }
}
