import Testing
@testable import Neural

struct ConvNormReLUPoolTests {
    /// A fused block and the separate Conv2D → BatchNorm2D → ReLU (→ MaxPool2D) chain over the
    /// same starting weights; γ and β are drawn with both signs so windows are won by their
    /// minimum as well as their maximum.
    static func pair(poolSize p: Int, budget: Int, seed: UInt64, channels: Int = 6) -> (ConvNormReLUPool, Sequential) {
        let gammas: [Float] = [1.5, -0.7, 0.3, -2, 1, 0.8], betas: [Float] = [0.1, 0.4, -0.3, 0.2, 0, -0.5]
        func parts() -> (Conv2D, BatchNorm2D) {
            var rng = SeededGenerator(seed: seed)
            let conv = Conv2D(inChannels: 4, outChannels: channels, kernelSize: 3, padding: 1, bias: false, name: "c", rng: &rng)
            conv.columnBudgetBytes = budget
            let norm = BatchNorm2D(channels: channels, name: "n")
            norm.weight.value = Tensor(shape: [channels], data: (0..<channels).map { gammas[$0 % 6] * (1 + Float($0 / 6) / 4) })
            norm.bias.value = Tensor(shape: [channels], data: (0..<channels).map { betas[$0 % 6] })
            return (conv, norm)
        }
        let (fusedConv, fusedNorm) = parts(), (plainConv, plainNorm) = parts()
        let fused = ConvNormReLUPool(conv: fusedConv, norm: fusedNorm, poolSize: p)
        let plain = Sequential([plainConv, plainNorm, ReLU()] + (p > 1 ? [MaxPool2D(kernelSize: p)] : []))
        return (fused, plain)
    }

    /// (pool size, column budget in bytes: 1 = one image per chunk, 1 << 20 = whole batch,
    /// image height, width, training). Odd sizes leave rows and columns no window covers, which
    /// still count in the batch statistics.
    static let configurations: [(Int, Int, Int, Int, Bool)] = [
        (2, 1 << 20, 7, 9, true), (2, 1, 7, 9, true), (2, 1, 8, 6, true), (2, 1 << 20, 8, 8, true),
        (1, 1 << 20, 7, 9, true), (1, 1, 7, 9, true), (3, 1, 7, 9, true),
        (2, 1, 7, 9, false), (1, 1 << 20, 6, 6, false),
    ]

    @Test(arguments: configurations)
    func matchesTheSeparateLayers(configuration: (Int, Int, Int, Int, Bool)) {
        let (p, budget, height, width, training) = configuration
        Self.expectFusedMatchesSeparate(poolSize: p, budget: budget, height: height, width: width, training: training)
    }

    /// 20 channels (two of AVX2's eight-lane groups and a remainder) at even sizes, where the
    /// winners and the routed gradient run in CKernels, against the separate layers at both levels.
    @Test(arguments: [true, false])
    func wideChannelsMatchSeparateLayersAtEverySIMDLevel(training: Bool) {
        Conv2DTests.atEverySIMDLevel {
            Self.expectFusedMatchesSeparate(poolSize: 2, budget: 1, height: 8, width: 6, training: training, channels: 20)
            Self.expectFusedMatchesSeparate(poolSize: 2, budget: 1 << 20, height: 4, width: 4, training: training, channels: 20)
        }
    }

    static func expectFusedMatchesSeparate(poolSize p: Int, budget: Int, height: Int, width: Int, training: Bool,
                                           channels: Int = 6) {
        let (fused, plain) = Self.pair(poolSize: p, budget: budget, seed: 31, channels: channels)
        if !training {
            let means: [Float] = [0.2, -0.1, 0, 0.3, -0.4, 0.1], variances: [Float] = [0.5, 1, 2, 0.8, 1.2, 3]
            for norm in [fused.norm, plain.layers[1] as! BatchNorm2D] {
                norm.runningMean.value = Tensor(shape: [channels], data: (0..<channels).map { means[$0 % 6] })
                norm.runningVariance.value = Tensor(shape: [channels], data: (0..<channels).map { variances[$0 % 6] })
            }
            fused.setTraining(false)
            plain.setTraining(false)
        }
        var rng = SeededGenerator(seed: 32)
        let x = Tensor(randomNormal: [3, height, width, 4], std: 1, using: &rng)
        let y = fused(x), expected = plain(x)
        #expect(y.shape == expected.shape)
        for i in 0..<y.count { #expect(abs(y[i] - expected[i]) < 1e-5, "output \(i)") }
        for (a, b) in zip(fused.buffers, plain.buffers) {
            #expect(a.name == b.name)
            for j in 0..<a.value.count { #expect(abs(a.value[j] - b.value[j]) < 1e-6, "\(a.name) \(j)") }
        }

        let dy = Tensor(randomNormal: y.shape, std: 1, using: &rng)
        fused.zeroGradients()
        plain.zeroGradients()
        let dx = fused.backward(dy), expectedDx = plain.backward(dy)
        #expect(dx.shape == x.shape)
        for i in 0..<dx.count { #expect(abs(dx[i] - expectedDx[i]) < 1e-4, "input gradient \(i)") }
        #expect(fused.parameters.map(\.name) == plain.parameters.map(\.name))
        for (a, b) in zip(fused.parameters, plain.parameters) {
            for i in 0..<a.gradient.count { #expect(abs(a.gradient[i] - b.gradient[i]) < 1e-3, "\(a.name) \(i)") }
        }
    }

    /// (pool size, image width, training, seed). Seeds keep every normalised value away from
    /// ReLU's kink and from pooling ties by more than the finite-difference step.
    @Test(arguments: [(1, 5, true, 41), (2, 5, true, 42), (2, 4, true, 43), (2, 4, false, 44)])
    func gradientsMatchFiniteDifferences(configuration: (Int, Int, Bool, UInt64)) {
        let (poolSize, width, training, seed) = configuration
        let (layer, _) = Self.pair(poolSize: poolSize, budget: 1, seed: seed)
        if !training {
            layer.norm.runningVariance.value = Tensor(shape: [6], data: [0.5, 1, 2, 0.8, 1.2, 3])
            layer.setTraining(false)
        }
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(randomNormal: [2, 6, width, 4], std: 1, using: &rng)
        GradientCheck.check(layer, input: x, h: 1e-3, tolerance: 2e-2)
    }

    @Test func evaluationCopyLeavesTheRunningStatisticsAlone() {
        let (layer, _) = Self.pair(poolSize: 2, budget: 1 << 20, seed: 45)
        var rng = SeededGenerator(seed: 46)
        let x = Tensor(randomNormal: [2, 8, 8, 4], std: 1, using: &rng)
        let before = layer.buffers.map(\.value)
        let inferred = layer.infer(x)
        #expect(layer.buffers.map(\.value) == before)
        layer.setTraining(false)
        #expect(layer(x).data == inferred.data)
    }

    @Test func secondStepWithAnotherBatchSizeStillMatches() {
        let (fused, plain) = Self.pair(poolSize: 2, budget: 1, seed: 47)
        var rng = SeededGenerator(seed: 48)
        _ = fused(Tensor(randomNormal: [4, 8, 8, 4], std: 1, using: &rng))
        _ = plain(Tensor(randomNormal: [4, 8, 8, 4], std: 1, using: &rng))
        let x = Tensor(randomNormal: [1, 4, 4, 4], std: 1, using: &rng)
        let y = fused(x), expected = plain(x)
        for i in 0..<y.count { #expect(abs(y[i] - expected[i]) < 1e-5, "output \(i)") }
    }
}
