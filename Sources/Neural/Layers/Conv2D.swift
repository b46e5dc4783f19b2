// 2-D convolution on NHWC batches as im2col + one GEMM per chunk of images: the column matrix
// (B·Ho·Wo, k·k·Cin) times the packed weights gives the NHWC output directly. Weights are stored
// as PyTorch stores them, (out, in, kh, kw), and repacked to (out, kh, kw, in) on each forward.
// Column memory is bounded (`columnBudgetBytes`) and reused between calls.

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
    /// Upper bound on the im2col buffer; batches whose columns exceed it run in chunks of images.
    /// 8 MB keeps a chunk's columns in the last-level cache between im2col and the GEMM that
    /// reads them, which measured faster than larger chunks (fewer trips to memory).
    public var columnBudgetBytes = 8 << 20
    /// Set false for a first layer fed with data: backward then skips the dX GEMM and col2im and
    /// returns an empty tensor of shape [0].
    public var propagatesInputGradient = true

    private var input = Tensor(zeros: [0])
    private(set) var geometry: ConvGeometry?
    private let columns = ScratchBuffer()
    /// (Cout, K) with K ordered (ky, kx, ci): the layout im2col rows multiply against.
    private let packedWeight = ScratchBuffer()
    private let packedGradient = ScratchBuffer()
    /// True while `columns` holds the im2col of the whole saved input (one chunk), so backward
    /// need not rebuild it.
    private var columnsHoldInput = false

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

    /// Output height and width for an input of the given size.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let g = makeGeometry(height: height, width: width)
        return (g.outHeight, g.outWidth)
    }

    private func makeGeometry(height: Int, width: Int) -> ConvGeometry {
        let g = ConvGeometry(height: height, width: width, inChannels: inChannels,
                             kernel: kernelSize, stride: stride, padding: padding)
        precondition(height + 2 * padding >= kernelSize && width + 2 * padding >= kernelSize,
                     "Conv2D \(weight.name): \(height)×\(width) input is smaller than the \(kernelSize)×\(kernelSize) kernel with padding \(padding)")
        return g
    }

    /// Images per chunk so that one chunk's columns fit the budget (at least one image).
    func imagesPerChunk(_ g: ConvGeometry, batch: Int, extraFloatsPerImage: Int = 0) -> Int {
        let perImage = (g.pixelsPerImage * g.columnWidth + extraFloatsPerImage) * MemoryLayout<Float>.size
        return max(1, min(batch, columnBudgetBytes / max(1, perImage)))
    }

    public func forward(_ x: Tensor) -> Tensor {
        let g = prepareForward(x)
        let rowsPerImage = g.pixelsPerImage, cout = outChannels
        return Tensor.uninitialized([x.shape[0], g.outHeight, g.outWidth, cout]) { y in
            forwardChunks(x, g, extraFloatsPerImage: 0, output: { y + $0 * rowsPerImage * cout }, finish: { _, _, _ in })
        }
    }

    /// Checks the input, keeps it for backward and packs the weights; returns the geometry.
    func prepareForward(_ x: Tensor) -> ConvGeometry {
        precondition(x.rank == 4 && x.shape[3] == inChannels,
                     "Conv2D \(weight.name): input \(x.shape) must be (B, H, W, \(inChannels))")
        let g = makeGeometry(height: x.shape[1], width: x.shape[2])
        input = x
        geometry = g
        packWeights()
        return g
    }

    /// The convolution chunk by chunk: `output(start)` says where the (n·Ho·Wo, Cout) result of
    /// the chunk starting at image `start` goes; `finish(start, n, result)` then sees it (bias
    /// included) while it is still in cache, which is how fused layers apply ReLU and pooling.
    /// `extraFloatsPerImage` counts the caller's per-image scratch against the column budget.
    func forwardChunks(_ x: Tensor, _ g: ConvGeometry, extraFloatsPerImage: Int,
                       output: (Int) -> UnsafeMutablePointer<Float>,
                       finish: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let batch = x.shape[0]
        let K = g.columnWidth, cout = outChannels, rowsPerImage = g.pixelsPerImage
        let chunk = imagesPerChunk(g, batch: batch, extraFloatsPerImage: extraFloatsPerImage)
        let packed = UnsafePointer(packedWeight.pointer)
        let cols = g.isPointwise ? nil : columns.reserve(chunk * rowsPerImage * K)
        columnsHoldInput = !g.isPointwise && chunk >= batch
        let b = bias?.value
        x.withUnsafeBufferPointer { px in
            var start = 0
            while start < batch {
                let n = min(chunk, batch - start)
                let yChunk = output(start)
                if let b {
                    // The bias goes in first (GEMM with beta 1), chunk by chunk while in cache.
                    b.withUnsafeBufferPointer { pb in
                        for r in 0..<(n * rowsPerImage) { (yChunk + r * cout).update(from: pb.baseAddress!, count: cout) }
                    }
                }
                let a: UnsafePointer<Float>
                if let cols {
                    im2col(g, images: n, x: px.baseAddress! + start * g.imageSize, cols: cols)
                    a = UnsafePointer(cols)
                } else {
                    a = px.baseAddress! + start * g.imageSize
                }
                gemm(.none, .transposed, m: n * rowsPerImage, n: cout, k: K, a: a, lda: K,
                     b: packed, ldb: K, beta: b == nil ? 0 : 1, c: yChunk, ldc: cout)
                finish(start, n, yChunk)
                start += n
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2D \(weight.name): backward before forward") }
        let batch = input.shape[0], cout = outChannels, rowsPerImage = g.pixelsPerImage
        precondition(dy.shape == [batch, g.outHeight, g.outWidth, cout],
                     "Conv2D \(weight.name): gradient \(dy.shape) does not match output [\(batch), \(g.outHeight), \(g.outWidth), \(cout)]")
        return dy.withUnsafeBufferPointer { pdy in
            backwardChunks(extraFloatsPerImage: 0) { start, _ in pdy.baseAddress! + start * rowsPerImage * cout }
        }
    }

    /// Backward chunk by chunk, with the same chunks as `forwardChunks`: `gradient(start, n)`
    /// supplies the output gradient (n·Ho·Wo, Cout) of a chunk, e.g. built in scratch by a fused
    /// layer from its pooled gradient. Returns dx, or an empty tensor when
    /// `propagatesInputGradient` is false.
    func backwardChunks(extraFloatsPerImage: Int, gradient: (Int, Int) -> UnsafePointer<Float>) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2D \(weight.name): backward before forward") }
        let batch = input.shape[0], cout = outChannels, K = g.columnWidth, rowsPerImage = g.pixelsPerImage
        let x = input
        let chunk = imagesPerChunk(g, batch: batch, extraFloatsPerImage: extraFloatsPerImage)
        let packed = UnsafePointer(packedWeight.pointer)
        let dW = packedGradient.reserve(cout * K)
        let cols = g.isPointwise ? nil : columns.reserve(chunk * rowsPerImage * K)
        var biasSums = [Double](repeating: 0, count: bias == nil ? 0 : cout)
        let propagate = propagatesInputGradient
        var dx = propagate ? Tensor.uninitialized(x.shape) { _ in } : Tensor(zeros: [0])
        x.withUnsafeBufferPointer { px in
            dx.withUnsafeMutableBufferPointer { pdx in
                var start = 0
                while start < batch {
                    let n = min(chunk, batch - start), rows = n * rowsPerImage
                    let dyChunk = gradient(start, n)
                    if bias != nil { addColumnSums(dyChunk, rows: rows, columns: cout, into: &biasSums) }
                    let a: UnsafePointer<Float>
                    if let cols {
                        if !columnsHoldInput {
                            im2col(g, images: n, x: px.baseAddress! + start * g.imageSize, cols: cols)
                        }
                        a = UnsafePointer(cols)
                    } else {
                        a = px.baseAddress! + start * g.imageSize
                    }
                    // dW (Cout, K) += dyᵀ (Cout, rows) · cols (rows, K)
                    gemm(.transposed, .none, m: cout, n: K, k: rows, a: dyChunk, lda: cout,
                         b: a, ldb: K, beta: start == 0 ? 0 : 1, c: dW, ldc: K)
                    if propagate {
                        let dxChunk = pdx.baseAddress! + start * g.imageSize
                        // dcols (rows, K) = dy (rows, Cout) · W (Cout, K), then folded onto dx.
                        gemm(.none, .none, m: rows, n: K, k: cout, a: dyChunk, lda: cout,
                             b: packed, ldb: K, c: cols ?? dxChunk, ldc: K)
                        if let cols { col2im(g, images: n, cols: cols, dx: dxChunk) }
                    }
                    start += n
                }
            }
        }
        columnsHoldInput = false
        unpackGradient()
        if let bias {
            bias.gradient.withUnsafeMutableBufferPointer { pg in
                for j in 0..<cout { pg[j] += Float(biasSums[j]) }
            }
        }
        return dx
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
    private func unpackGradient() {
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
