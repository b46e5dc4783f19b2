// 2-D convolution on NHWC batches as im2col + one GEMM per chunk of images: the column matrix
// (B·Ho·Wo, k·k·Cin) times the packed weights gives the NHWC output directly. Weights are stored
// as PyTorch stores them, (out, in, kh, kw), and repacked to (out, kh, kw, in) on each forward.
// Column memory is bounded (`columnBudgetBytes`) and reused between calls. 3×3 stride-1 padding-1
// convolutions over 16 or more channels run as Winograd tiles instead (Conv2D+Winograd.swift),
// in the same chunks, with the weights repacked to their 16 transformed points.

import Foundation

/// y (B, Ho, Wo, Cout) = conv(x (B, H, W, Cin)), Ho = (H + 2·padding − k) / stride + 1.
public final class Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// (out, in, kh, kw): PyTorch's layout, so checkpoints are interchangeable.
    public let weight: Parameter
    /// (out), nil when built with `bias: false` (a convolution followed by BatchNorm needs none).
    public let bias: Parameter?
    /// Upper bound on one chunk's im2col buffer; batches whose columns exceed it run in chunks of
    /// images, one chunk per core at a time. A few MB keeps a chunk's columns in cache between
    /// im2col and the GEMM that reads them (fewer trips to memory).
    public var columnBudgetBytes = 4 << 20
    /// Set false for a first layer fed with data: backward then skips the dX GEMM and col2im and
    /// returns an empty tensor of shape [0].
    public var propagatesInputGradient = true
    /// im2col everywhere, or Winograd tiles where the geometry allows (`automatic`: where it pays).
    public var algorithm = ConvolutionAlgorithm.automatic

    var input = Tensor(zeros: [0])
    private(set) var geometry: ConvGeometry?
    /// (Cout, K) with K ordered (ky, kx, ci): the layout im2col rows multiply against.
    let packedWeight = ScratchBuffer()
    let packedGradient = ScratchBuffer()
    /// One per core that works on chunks: columns, chunk scratch, partial weight gradients.
    var workspaces: [ConvWorkspace] = []

    /// Creates `name.weight` (out, in, k, k) and `name.bias`, U(−1/√fanIn, 1/√fanIn) like PyTorch.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, name: String, rng: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2D \(name): bad configuration in \(inChannels) out \(outChannels) k \(kernelSize) s \(stride) p \(padding)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernelSize * kernelSize
        weight = Parameter(name: name + ".weight",
                           value: .pytorchDefault([outChannels, inChannels, kernelSize, kernelSize],
                                                  fanIn: fanIn, using: &rng),
                           role: .weight)
        self.bias = bias
            ? Parameter(name: name + ".bias", value: .pytorchDefault([outChannels], fanIn: fanIn, using: &rng), role: .bias)
            : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    private init(sharing other: Conv2D) {
        (inChannels, outChannels, kernelSize, stride, padding) =
            (other.inChannels, other.outChannels, other.kernelSize, other.stride, other.padding)
        (weight, bias) = (other.weight, other.bias)
        columnBudgetBytes = other.columnBudgetBytes
        propagatesInputGradient = other.propagatesInputGradient
        algorithm = other.algorithm
    }

    public func evaluationCopy() -> any Layer { copy() }
    /// The same convolution over the same parameters, with column buffers of its own.
    public func copy() -> Conv2D { Conv2D(sharing: self) }

    /// Output height and width for an input of the given size.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let g = makeGeometry(height: height, width: width)
        return (g.outHeight, g.outWidth)
    }

    /// How a batch of `height`×`width` images is cut for im2col: images per chunk, column rows
    /// per image (Ho·Wo) and floats per column row (k·k·Cin). For benchmarks that time the bare
    /// GEMMs of the same shapes.
    public func chunking(batch: Int, height: Int, width: Int) -> (imagesPerChunk: Int, rowsPerImage: Int, columnWidth: Int) {
        let g = makeGeometry(height: height, width: width)
        return (imagesPerChunk(g, batch: batch), g.pixelsPerImage, g.columnWidth)
    }

    private func makeGeometry(height: Int, width: Int) -> ConvGeometry {
        let g = ConvGeometry(height: height, width: width, inChannels: inChannels,
                             kernel: kernelSize, stride: stride, padding: padding)
        precondition(height + 2 * padding >= kernelSize && width + 2 * padding >= kernelSize,
                     "Conv2D \(weight.name): \(height)×\(width) input is smaller than the \(kernelSize)×\(kernelSize) kernel with padding \(padding)")
        return g
    }

    /// Images per chunk so that one chunk's columns (and the caller's extra floats per image) fit
    /// the budget, at least one image; the chunk count is then rounded up to a multiple of the
    /// cores so every core gets the same share.
    func imagesPerChunk(_ g: ConvGeometry, batch: Int, extraFloatsPerImage: Int = 0) -> Int {
        let work = usesWinograd(g) ? winogradFloatsPerImage(g) : g.pixelsPerImage * g.columnWidth
        let perImage = (work + extraFloatsPerImage) * MemoryLayout<Float>.size
        let fitting = max(1, min(batch, columnBudgetBytes / max(1, perImage)))
        var chunks = (batch + fitting - 1) / fitting
        let cores = Threads.count
        if chunks > 1 { chunks = min(batch, (chunks + cores - 1) / cores * cores) }
        return max(1, (batch + chunks - 1) / max(1, chunks))
    }

    public func forward(_ x: Tensor) -> Tensor {
        let g = prepareForward(x)
        let rowsPerImage = g.pixelsPerImage, cout = outChannels
        return Tensor.uninitialized([x.shape[0], g.outHeight, g.outWidth, cout]) { y in
            forwardChunks(x, g, extraFloatsPerImage: 0, output: { y + $0.start * rowsPerImage * cout }, finish: { _, _ in })
        }
    }

    /// Checks the input, keeps it for backward and packs the weights; returns the geometry.
    func prepareForward(_ x: Tensor) -> ConvGeometry {
        precondition(x.rank == 4 && x.shape[3] == inChannels,
                     "Conv2D \(weight.name): input \(x.shape) must be (B, H, W, \(inChannels))")
        let g = makeGeometry(height: x.shape[1], width: x.shape[2])
        input = x
        geometry = g
        if usesWinograd(g) { packWinogradWeights() } else { packWeights() }
        return g
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2D \(weight.name): backward before forward") }
        let batch = input.shape[0], cout = outChannels, rowsPerImage = g.pixelsPerImage
        precondition(dy.shape == [batch, g.outHeight, g.outWidth, cout],
                     "Conv2D \(weight.name): gradient \(dy.shape) does not match output [\(batch), \(g.outHeight), \(g.outWidth), \(cout)]")
        return dy.withUnsafeBufferPointer { pdy in
            let base = pdy.baseAddress!
            return backwardChunks(extraFloatsPerImage: 0) { c in UnsafePointer(base + c.start * rowsPerImage * cout) }
        }
    }

    /// packedWeight (Cout, kh, kw, Cin) ← weight (Cout, Cin, kh, kw).
    private func packWeights() {
        let k2 = kernelSize * kernelSize, cin = inChannels, K = k2 * cin
        let dst = packedWeight.reserve(outChannels * K)
        weight.value.withUnsafeBufferPointer { pw in
            let w = pw.baseAddress!
            for co in 0..<outChannels {
                for ci in 0..<cin {
                    for s in 0..<k2 { dst[co * K + s * cin + ci] = w[(co * cin + ci) * k2 + s] }
                }
            }
        }
    }

    /// weight.gradient (Cout, Cin, kh, kw) += packedGradient (Cout, kh, kw, Cin).
    func unpackGradient() {
        let k2 = kernelSize * kernelSize, cin = inChannels, K = k2 * cin
        let src = packedGradient.pointer
        weight.gradient.withUnsafeMutableBufferPointer { pg in
            let g = pg.baseAddress!
            for co in 0..<outChannels {
                for ci in 0..<cin {
                    for s in 0..<k2 { g[(co * cin + ci) * k2 + s] += src[co * K + s * cin + ci] }
                }
            }
        }
    }
}

/// totals (C) += Σ over rows of dy (rows, C): Float partial sums per block of rows, Double
/// across blocks, so a million rows lose no precision.
func addColumnSums(_ dy: UnsafePointer<Float>, rows: Int, columns c: Int, into totals: inout [Double]) {
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: c)
    defer { partial.deallocate() }
    totals.withUnsafeMutableBufferPointer { pt in
        let t = pt.baseAddress!
        var start = 0
        while start < rows {
            let end = min(rows, start + 512)
            partial.update(repeating: 0, count: c)
            for r in start..<end {
                let row = dy + r * c
                for j in 0..<c { partial[j] += row[j] }
            }
            for j in 0..<c { t[j] += Double(partial[j]) }
            start = end
        }
    }
}
