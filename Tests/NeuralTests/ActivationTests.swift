import Foundation
import Testing
@testable import Neural

struct ActivationTests {
    @Test func reluGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 31)
        GradientCheck.check(ReLU(), input: TestInputs.awayFromZero([3, 5, 7], rng: &rng))
    }

    @Test func reluValues() {
        let y = ReLU()(Tensor(shape: [4], data: [-2, -0.5, 0.5, 3]))
        #expect(y.data == [0, 0, 0.5, 3])
    }

    @Test func geluGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 32)
        GradientCheck.check(GELU(), input: Tensor(randomNormal: [3, 11], std: 2, using: &rng))
    }

    @Test func geluValuesFollowTheTanhApproximation() {
        let y = GELU()(Tensor(shape: [4], data: [-3, 0, 1, 2]))
        // PyTorch gelu(approximate="tanh"): -0.0036373, 0, 0.8411920, 1.9545977
        let expected: [Float] = [-0.0036373, 0, 0.8411920, 1.9545977]
        for i in 0..<4 { #expect(abs(y[i] - expected[i]) < 1e-5, "gelu(\(i))") }
    }
}
