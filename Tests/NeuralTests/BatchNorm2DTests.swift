import Testing
@testable import Neural

struct BatchNorm2DTests {
    @Test func trainingGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 51)
        let bn = BatchNorm2D(channels: 5, name: "bn")
        bn.weight.value = Tensor(randomNormal: [5], std: 1, using: &rng)
        bn.bias.value = Tensor(randomNormal: [5], std: 1, using: &rng)
        let x = Tensor(randomNormal: [3, 7, 5, 5], std: 2, using: &rng)
        GradientCheck.check(bn, input: x)
    }

    @Test func evaluationGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 52)
        let bn = BatchNorm2D(channels: 4, name: "bn")
        bn.runningMean.value = Tensor(randomNormal: [4], std: 1, using: &rng)
        bn.runningVariance.value = Tensor(shape: [4], data: [0.5, 1, 2, 4])
        bn.weight.value = Tensor(randomNormal: [4], std: 1, using: &rng)
        bn.setTraining(false)
        GradientCheck.check(bn, input: Tensor(randomNormal: [2, 3, 5, 4], std: 1, using: &rng))
    }

    @Test func trainingNormalisesAndUpdatesRunningStatisticsLikePyTorch() {
        // One channel, values 1…4: mean 2.5, biased var 1.25, unbiased 5/3.
        let bn = BatchNorm2D(channels: 1, name: "bn")
        let y = bn(Tensor(shape: [1, 2, 2, 1], data: [1, 2, 3, 4]))
        let inv = 1 / (1.25 + 1e-5 as Float).squareRoot()
        for (i, v) in [1, 2, 3, 4].enumerated() { #expect(abs(y[i] - (Float(v) - 2.5) * inv) < 1e-5) }
        #expect(abs(bn.runningMean.value[0] - 0.25) < 1e-6)
        #expect(abs(bn.runningVariance.value[0] - (0.9 + 0.1 * 5 / 3)) < 1e-6)
        #expect(bn.buffers.map(\.name) == ["bn.running_mean", "bn.running_var"])
        #expect(bn.parameters.map(\.name) == ["bn.weight", "bn.bias"])
    }

    @Test func evaluationUsesRunningStatistics() {
        let bn = BatchNorm2D(channels: 2, name: "bn")
        bn.runningMean.value = Tensor(shape: [2], data: [1, -2])
        bn.runningVariance.value = Tensor(shape: [2], data: [4, 0.25])
        bn.weight.value = Tensor(shape: [2], data: [2, 1])
        bn.bias.value = Tensor(shape: [2], data: [0, 3])
        bn.setTraining(false)
        let y = bn(Tensor(shape: [1, 1, 2, 2], data: [3, -1, 5, -2]))
        // channel 0: 2·(x − 1)/2; channel 1: (x + 2)/0.5 + 3
        let expected: [Float] = [2, 5, 4, 3]
        for i in 0..<4 { #expect(abs(y[i] - expected[i]) < 1e-4) }
        #expect(bn.runningMean.value.data == [1, -2])  // evaluation leaves the statistics alone
    }

    @Test func largeBatchesSplitOverThreadsKeepTheStatisticsExact() {
        // 16 384 rows: the sums and passes run on every core.
        var rng = SeededGenerator(seed: 53)
        let bn = BatchNorm2D(channels: 3, name: "bn")
        var x = Tensor(randomNormal: [4, 64, 64, 3], std: 2, using: &rng)
        for i in stride(from: 0, to: x.count, by: 3) { x[i] += 5 }  // channel 0 centred at 5
        let y = bn(x)
        let rows = x.count / 3
        for ch in 0..<3 {
            var mean = 0.0, square = 0.0, xMean = 0.0
            for r in 0..<rows { mean += Double(y[r * 3 + ch]); xMean += Double(x[r * 3 + ch]) }
            mean /= Double(rows)
            xMean /= Double(rows)
            for r in 0..<rows { square += Double(y[r * 3 + ch]) * Double(y[r * 3 + ch]) }
            #expect(abs(mean) < 1e-4 && abs(square / Double(rows) - 1) < 1e-3, "channel \(ch)")
            #expect(abs(Double(bn.runningMean.value[ch]) - 0.1 * xMean) < 1e-4)
        }
        // Training backward removes the gradient's mean and its component along x̂ per channel.
        let dx = bn.backward(Tensor(randomNormal: x.shape, std: 1, using: &rng))
        for ch in 0..<3 {
            var sum = 0.0, along = 0.0
            for r in 0..<rows { sum += Double(dx[r * 3 + ch]); along += Double(dx[r * 3 + ch]) * Double(y[r * 3 + ch]) }
            #expect(abs(sum) < 1e-2 && abs(along) < 1e-2, "channel \(ch): Σdx \(sum), Σdx·x̂ \(along)")
        }
    }
}
