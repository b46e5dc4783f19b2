import Testing
@testable import Neural

/// Direct convolution in Double over PyTorch-layout weights (out, in, kh, kw): the reference.
private func naiveConv(_ x: Tensor, _ conv: Conv2D) -> [Double] {
    let (b, h, w, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (k, s, p, cout) = (conv.kernelSize, conv.stride, conv.padding, conv.outChannels)
    let (ho, wo) = conv.outputSize(height: h, width: w)
    var y = [Double](repeating: 0, count: b * ho * wo * cout)
    for n in 0..<b { for oy in 0..<ho { for ox in 0..<wo { for co in 0..<cout {
        var sum = Double(conv.bias?.value[co] ?? 0)
        for ci in 0..<cin { for ky in 0..<k { for kx in 0..<k {
            let iy = oy * s - p + ky, ix = ox * s - p + kx
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            sum += Double(x[((n * h + iy) * w + ix) * cin + ci]) * Double(conv.weight.value[((co * cin + ci) * k + ky) * k + kx])
        } } }
        y[((n * ho + oy) * wo + ox) * cout + co] = sum
    } } } }
    return y
}

struct Conv2DTests {
    /// (kernel, stride, padding, bias)
    static let configurations: [(Int, Int, Int, Bool)] = [(3, 2, 1, true), (3, 1, 1, true), (2, 1, 0, false),
                                                          (1, 1, 0, true), (3, 2, 0, true), (5, 1, 2, true)]

    @Test(arguments: configurations)
    func gradientsMatchFiniteDifferences(configuration: (Int, Int, Int, Bool)) {
        let (k, s, p, bias) = configuration
        var rng = SeededGenerator(seed: 11)
        let conv = Conv2D(inChannels: 5, outChannels: 4, kernelSize: k, stride: s, padding: p, bias: bias,
                          name: "c", rng: &rng)
        let x = Tensor(randomNormal: [3, 7, 5, 5], std: 1, using: &rng)
        GradientCheck.check(conv, input: x)
    }

    @Test func chunkedBatchesGiveTheSameGradients() {
        var rng = SeededGenerator(seed: 12)
        let conv = Conv2D(inChannels: 5, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, name: "c", rng: &rng)
        conv.columnBudgetBytes = 1  // one image per chunk
        let x = Tensor(randomNormal: [3, 7, 5, 5], std: 1, using: &rng)
        GradientCheck.check(conv, input: x)
    }

    @Test(arguments: configurations)
    func forwardMatchesDirectConvolutionOnPyTorchLayout(configuration: (Int, Int, Int, Bool)) {
        let (k, s, p, bias) = configuration
        var rng = SeededGenerator(seed: 13)
        let conv = Conv2D(inChannels: 3, outChannels: 6, kernelSize: k, stride: s, padding: p, bias: bias,
                          name: "c", rng: &rng)
        let x = Tensor(randomNormal: [2, 9, 6, 3], std: 1, using: &rng)
        let y = conv(x)
        let (ho, wo) = conv.outputSize(height: 9, width: 6)
        #expect(y.shape == [2, ho, wo, 6])
        let expected = naiveConv(x, conv)
        for i in 0..<y.count { #expect(abs(Double(y[i]) - expected[i]) < 1e-4, "element \(i)") }
    }

    @Test func tinyConvolutionByHand() {
        var rng = SeededGenerator(seed: 1)
        let conv = Conv2D(inChannels: 1, outChannels: 1, kernelSize: 2, stride: 1, padding: 0, name: "c", rng: &rng)
        conv.weight.value = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        conv.bias!.value = Tensor(shape: [1], data: [0.5])
        // x = [[1 2 3], [4 5 6], [7 8 9]]
        let x = Tensor(shape: [1, 3, 3, 1], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let y = conv(x)
        // top-left: 1·1 + 2·2 + 3·4 + 4·5 = 37, + 0.5
        #expect(y.shape == [1, 2, 2, 1])
        #expect(y.data == [37.5, 47.5, 67.5, 77.5])
        // Padding 1, stride 2 on the same input: corners see one, two or four pixels.
        let padded = Conv2D(inChannels: 1, outChannels: 1, kernelSize: 2, stride: 2, padding: 1, bias: false,
                            name: "p", rng: &rng)
        padded.weight.value = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        // (0,0): 1·4; (0,1): 2·3 + 3·4; (1,0): 4·2 + 7·4; (1,1): 5·1 + 6·2 + 8·3 + 9·4
        #expect(padded(x).data == [4, 18, 36, 77])
    }

    @Test func firstLayerCanSkipTheInputGradient() {
        var rng = SeededGenerator(seed: 14)
        let full = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, name: "a", rng: &rng)
        var copyRng = SeededGenerator(seed: 14)
        let lean = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, name: "a", rng: &copyRng)
        lean.propagatesInputGradient = false
        let x = Tensor(randomNormal: [2, 6, 6, 3], std: 1, using: &rng)
        let g = Tensor(randomNormal: [2, 6, 6, 4], std: 1, using: &rng)
        _ = full(x)
        _ = lean(x)
        #expect(full.backward(g).shape == x.shape)
        #expect(lean.backward(g).count == 0)
        #expect(lean.weight.gradient == full.weight.gradient)
        #expect(lean.bias!.gradient == full.bias!.gradient)
    }

    @Test func repeatedStepsAccumulateGradients() {
        var rng = SeededGenerator(seed: 15)
        let conv = Conv2D(inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        let x = Tensor(randomNormal: [2, 5, 5, 2], std: 1, using: &rng)
        let g = Tensor(randomNormal: [2, 5, 5, 3], std: 1, using: &rng)
        _ = conv(x)
        _ = conv.backward(g)
        let once = conv.weight.gradient
        _ = conv(x)
        _ = conv.backward(g)
        for i in 0..<once.count { #expect(abs(conv.weight.gradient[i] - 2 * once[i]) < 1e-4) }
    }
}
