import Testing
@testable import Neural

struct LinearTests {
    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 21)
        let linear = Linear(inputs: 7, outputs: 5, name: "proj", rng: &rng)
        GradientCheck.check(linear, input: Tensor(randomNormal: [3, 7], std: 1, using: &rng))
    }

    @Test func leadingDimensionsAreRowsAndBiasIsOptional() {
        var rng = SeededGenerator(seed: 22)
        let linear = Linear(inputs: 4, outputs: 3, bias: false, name: "p", rng: &rng)
        #expect(linear.parameters.map(\.name) == ["p.weight"])
        let x = Tensor(randomNormal: [2, 3, 4], std: 1, using: &rng)
        #expect(linear(x).shape == [2, 3, 3])
        GradientCheck.check(linear, input: x)
    }

    @Test func storesWeightsAsPyTorchDoes() {
        var rng = SeededGenerator(seed: 23)
        let linear = Linear(inputs: 256, outputs: 128, name: "image.proj", rng: &rng)
        #expect(linear.parameters.map(\.name) == ["image.proj.weight", "image.proj.bias"])
        #expect(linear.weight.shape == [128, 256] && linear.bias!.shape == [128])
        #expect(linear.weight.role == .weight && linear.bias!.role == .bias)
        // U(−1/√in, 1/√in): every value inside the bound, and the spread fills it.
        let bound: Float = 1 / 16
        #expect(linear.weight.value.data.allSatisfy { abs($0) <= bound })
        #expect(linear.weight.value.data.max()! > 0.9 * bound)
        // y = x·Wᵀ + b by hand on a 2→2 layer.
        let small = Linear(inputs: 2, outputs: 2, name: "s", rng: &rng)
        small.weight.value = Tensor(shape: [2, 2], data: [1, 2, 3, 4])
        small.bias!.value = Tensor(shape: [2], data: [10, 20])
        #expect(small(Tensor(shape: [1, 2], data: [1, 1])).data == [13, 27])
    }

    @Test func emptyBatchGivesEmptyOutputAndNoGradient() {
        var rng = SeededGenerator(seed: 24)
        let linear = Linear(inputs: 3, outputs: 2, name: "p", rng: &rng)
        #expect(linear(Tensor(zeros: [0, 3])).shape == [0, 2])
        #expect(linear.backward(Tensor(zeros: [0, 2])).shape == [0, 3])
        #expect(linear.weight.gradient.data.allSatisfy { $0 == 0 })
    }
}
