import Testing
@testable import Neural

struct ConvReLUPoolTests {
    /// (pool size, column budget in bytes: 1 = one image per chunk, 1 << 20 = whole batch,
    /// image height, width). Odd sizes leave rows and columns that no pooling window covers.
    static let configurations: [(Int, Int, Int, Int)] = [(2, 1 << 20, 7, 9), (2, 1, 7, 9), (2, 1, 8, 6), (2, 1 << 20, 8, 8),
                                                         (1, 1 << 20, 7, 9), (1, 1, 7, 9), (3, 1, 7, 9)]

    @Test(arguments: configurations)
    func matchesSeparateConvReLUAndMaxPool(configuration: (Int, Int, Int, Int)) {
        let (p, budget, height, width) = configuration
        var rng = SeededGenerator(seed: 21)
        let fusedConv = Conv2D(inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        var rng2 = SeededGenerator(seed: 21)
        let plainConv = Conv2D(inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, name: "c", rng: &rng2)
        fusedConv.columnBudgetBytes = budget
        plainConv.columnBudgetBytes = budget
        let fused = ConvReLUPool(conv: fusedConv, poolSize: p)
        let plain = Sequential([plainConv, ReLU()] + (p > 1 ? [MaxPool2D(kernelSize: p)] : []))
        let x = Tensor(randomNormal: [3, height, width, 4], std: 1, using: &rng)
        let y = fused(x), expected = plain(x)
        #expect(y.shape == expected.shape)
        for i in 0..<y.count { #expect(abs(y[i] - expected[i]) < 1e-5, "output \(i)") }

        let dy = Tensor(randomNormal: y.shape, std: 1, using: &rng)
        fused.zeroGradients()
        plain.zeroGradients()
        let dx = fused.backward(dy), expectedDx = plain.backward(dy)
        #expect(dx.shape == x.shape)
        for i in 0..<dx.count { #expect(abs(dx[i] - expectedDx[i]) < 1e-4, "input gradient \(i)") }
        for (a, b) in zip(fused.parameters, plain.parameters) {
            #expect(a.name == b.name)
            for i in 0..<a.gradient.count { #expect(abs(a.gradient[i] - b.gradient[i]) < 1e-3, "\(a.name) \(i)") }
        }
    }

    /// The image tower's widths: Winograd for the convolution, the eight-lane kernel (and its
    /// tail) for the gradient through ReLU and the 2×2 pool, portable and AVX2 alike.
    @Test(arguments: [(8, 8), (7, 9)])
    func wideChannelsMatchSeparateLayersAtEverySIMDLevel(size: (Int, Int)) {
        var rng = SeededGenerator(seed: 23), same = SeededGenerator(seed: 23)
        let fusedConv = Conv2D(inChannels: 16, outChannels: 12, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        let plainConv = Conv2D(inChannels: 16, outChannels: 12, kernelSize: 3, padding: 1, name: "c", rng: &same)
        plainConv.algorithm = .columns
        let fused = ConvReLUPool(conv: fusedConv, poolSize: 2)
        let plain = Sequential([plainConv, ReLU(), MaxPool2D(kernelSize: 2)])
        let x = Tensor(randomNormal: [3, size.0, size.1, 16], std: 1, using: &rng)
        let expected = plain(x)
        let dy = Tensor(randomNormal: expected.shape, std: 1, using: &rng)
        plain.zeroGradients()
        let expectedDx = plain.backward(dy)
        Conv2DTests.atEverySIMDLevel {
            let y = fused(x)
            for i in 0..<y.count { #expect(abs(y[i] - expected[i]) < 1e-4, "output \(i)") }
            fused.zeroGradients()
            let dx = fused.backward(dy)
            for i in 0..<dx.count { #expect(abs(dx[i] - expectedDx[i]) < 1e-4, "input gradient \(i)") }
            for (a, b) in zip(fused.parameters, plain.parameters) {
                for i in 0..<a.gradient.count { #expect(abs(a.gradient[i] - b.gradient[i]) < 1e-3 * (1 + abs(b.gradient[i])), "\(a.name) \(i)") }
            }
        }
    }

    /// (pool size, image width, seed). Seeds are chosen so no conv output sits within the
    /// finite-difference step of ReLU's kink or of a pooling tie (the unfused layers fail there too).
    @Test(arguments: [(1, 5, 22), (2, 5, 22), (2, 4, 24)])
    func gradientsMatchFiniteDifferences(configuration: (Int, Int, UInt64)) {
        let (poolSize, width, seed) = configuration
        var rng = SeededGenerator(seed: seed)
        let conv = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        conv.columnBudgetBytes = 1
        let layer = ConvReLUPool(conv: conv, poolSize: poolSize)
        let x = Tensor(randomNormal: [2, 6, width, 3], std: 1, using: &rng)
        GradientCheck.check(layer, input: x, h: 1e-3, tolerance: 2e-2)
    }

    @Test func secondStepWithAnotherBatchSizeStillMatches() {
        var rng = SeededGenerator(seed: 23)
        let conv = Conv2D(inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        let layer = ConvReLUPool(conv: conv, poolSize: 2)
        _ = layer(Tensor(randomNormal: [4, 8, 8, 2], std: 1, using: &rng))
        let x = Tensor(randomNormal: [1, 4, 4, 2], std: 1, using: &rng)
        let y = layer(x)
        let expected = MaxPool2D()(ReLU()(conv(x)))
        #expect(y.data == expected.data)
    }
}
