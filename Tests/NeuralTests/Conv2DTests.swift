import CKernels
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

    // MARK: Winograd F(2×2, 3×3)

    /// (height, width, in, out): even and odd sides (edge tiles half outside), a 1×1 image, and
    /// channel counts below, at and past the eight lanes of the AVX2 transforms.
    static let winogradShapes: [(Int, Int, Int, Int)] = [(8, 8, 16, 8), (7, 5, 9, 10), (1, 1, 3, 2), (6, 9, 17, 12)]

    /// Runs `body` with the portable kernels, then with AVX2 where the processor has it.
    static func atEverySIMDLevel(_ body: () -> Void) {
        let best = rk_simd_level()
        rk_set_simd_level(0)
        body()
        rk_set_simd_level(2)
        if best == 2 { body() }
        #expect(rk_simd_level() == best)
    }

    @Test(arguments: winogradShapes)
    func winogradMatchesDirectConvolution(shape: (Int, Int, Int, Int)) {
        let (h, w, cin, cout) = shape
        var rng = SeededGenerator(seed: 16)
        let conv = Conv2D(inChannels: cin, outChannels: cout, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        conv.algorithm = .winograd
        let x = Tensor(randomNormal: [3, h, w, cin], std: 1, using: &rng)
        let expected = naiveConv(x, conv)
        Self.atEverySIMDLevel {
            let y = conv(x)
            #expect(y.shape == [3, h, w, cout])
            for i in 0..<y.count { #expect(abs(Double(y[i]) - expected[i]) < 1e-4 * (1 + abs(expected[i])), "element \(i)") }
        }
    }

    @Test(arguments: winogradShapes)
    func winogradGradientsMatchFiniteDifferences(shape: (Int, Int, Int, Int)) {
        let (h, w, cin, cout) = shape
        var rng = SeededGenerator(seed: 17)
        let conv = Conv2D(inChannels: cin, outChannels: cout, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        conv.algorithm = .winograd
        conv.columnBudgetBytes = 1  // one image per chunk: the chunks' partial dU are summed
        let x = Tensor(randomNormal: [2, h, w, cin], std: 1, using: &rng)
        Self.atEverySIMDLevel { GradientCheck.check(conv, input: x) }
    }

    /// What a user's model computes must not depend on the algorithm: the automatic choice (Winograd
    /// at 16 channels and more) gives im2col's outputs and gradients, chunked or not.
    @Test(arguments: [1, 1 << 24])
    func automaticWinogradAgreesWithColumns(budget: Int) {
        var rng = SeededGenerator(seed: 18), same = SeededGenerator(seed: 18)
        let fast = Conv2D(inChannels: 16, outChannels: 24, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        let plain = Conv2D(inChannels: 16, outChannels: 24, kernelSize: 3, padding: 1, name: "c", rng: &same)
        plain.algorithm = .columns
        fast.columnBudgetBytes = budget
        plain.columnBudgetBytes = budget
        let x = Tensor(randomNormal: [5, 12, 10, 16], std: 1, using: &rng)
        #expect(fast.usesWinograd(ConvGeometry(height: 12, width: 10, inChannels: 16, kernel: 3, stride: 1, padding: 1)))
        let y = fast(x), expected = plain(x)
        for i in 0..<y.count { #expect(abs(y[i] - expected[i]) < 1e-4, "output \(i)") }
        let dy = Tensor(randomNormal: y.shape, std: 1, using: &rng)
        let dx = fast.backward(dy), expectedDx = plain.backward(dy)
        for i in 0..<dx.count { #expect(abs(dx[i] - expectedDx[i]) < 1e-4, "input gradient \(i)") }
        for (a, b) in zip(fast.parameters, plain.parameters) {
            for i in 0..<a.gradient.count { #expect(abs(a.gradient[i] - b.gradient[i]) < 1e-3 * (1 + abs(b.gradient[i])), "\(a.name) \(i)") }
        }
    }

    @Test func winogradOnlyWhereTheGeometryAllowsIt() {
        var rng = SeededGenerator(seed: 19)
        for (k, s, p) in [(3, 2, 1), (3, 1, 0), (5, 1, 2), (1, 1, 0)] {
            let conv = Conv2D(inChannels: 32, outChannels: 8, kernelSize: k, stride: s, padding: p, name: "c", rng: &rng)
            conv.algorithm = .winograd
            #expect(!conv.usesWinograd(ConvGeometry(height: 9, width: 9, inChannels: 32, kernel: k, stride: s, padding: p)))
        }
        let rgb = Conv2D(inChannels: 3, outChannels: 32, kernelSize: 3, padding: 1, name: "c", rng: &rng)
        #expect(!rgb.usesWinograd(ConvGeometry(height: 64, width: 64, inChannels: 3, kernel: 3, stride: 1, padding: 1)))
    }
}
