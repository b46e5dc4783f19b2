import Testing
@testable import Neural

struct SequentialTests {
    @Test func chainGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 91)
        let net = Sequential([
            Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, name: "net.conv", rng: &rng),
            BatchNorm2D(channels: 4, name: "net.bn"),
            GELU(),
            GlobalAveragePool(),
            Linear(inputs: 4, outputs: 3, name: "net.fc", rng: &rng),
            L2Normalize(),
        ])
        GradientCheck.check(net, input: Tensor(randomNormal: [3, 7, 5, 3], std: 1, using: &rng), h: 1e-3, tolerance: 2e-2)
    }

    @Test func collectsParametersAndBuffersAndPropagatesTraining() {
        var rng = SeededGenerator(seed: 92)
        let bn = BatchNorm2D(channels: 2, name: "m.inner.bn")
        let net = Sequential([
            Conv2D(inChannels: 1, outChannels: 2, kernelSize: 3, padding: 1, bias: false, name: "m.conv", rng: &rng),
            Sequential([bn, ReLU()]),
            MaxPool2D(),
        ])
        #expect(net.parameters.map(\.name) == ["m.conv.weight", "m.inner.bn.weight", "m.inner.bn.bias"])
        #expect(net.buffers.map(\.name) == ["m.inner.bn.running_mean", "m.inner.bn.running_var"])
        net.setTraining(false)
        #expect(!bn.isTraining)
        net.setTraining(true)
        #expect(bn.isTraining)
    }
}
