// Conv2D → ReLU → non-overlapping max pooling as one layer. Each chunk of the convolution's output
// is rectified and pooled while still in cache, so the full-resolution activation never exists;
// backward rebuilds each chunk's output gradient from the pooled output and the argmax codes.
// The math is exactly that of the three separate layers (the first maximum of a window wins ties,
// and max(relu(v)) = relu(max(v)), so pooling the pre-activation picks the same input).

import CKernels

/// y (B, Ho/p, Wo/p, Cout) = maxpool_p(relu(conv(x))); with `poolSize` 1, y = relu(conv(x)).
public final class ConvReLUPool: Layer {
    /// Owns the parameters (`name.weight`, `name.bias`), so names match the unfused layers.
    public let conv: Conv2D
    /// Pooling window and stride; 1 means no pooling.
    public let poolSize: Int
    private var output = Tensor(zeros: [0])
    /// Per output element, the window position ky·p + kx of its maximum.
    private var winners: [UInt8] = []

    public init(conv: Conv2D, poolSize: Int) {
        precondition(poolSize >= 1 && poolSize <= 15, "ConvReLUPool \(conv.weight.name): pool size \(poolSize) must be 1…15")
        self.conv = conv
        self.poolSize = poolSize
    }

    public var parameters: [Parameter] { conv.parameters }
    public func evaluationCopy() -> any Layer { ConvReLUPool(conv: conv.copy(), poolSize: poolSize) }

    public func forward(_ x: Tensor) -> Tensor {
        let g = conv.prepareForward(x)
        let batch = x.shape[0], c = conv.outChannels, p = poolSize
        let perImage = g.pixelsPerImage * c
        let ho = g.outHeight / p, wo = g.outWidth / p
        precondition(ho > 0 && wo > 0, "ConvReLUPool \(conv.weight.name): \(g.outHeight)×\(g.outWidth) output is smaller than the \(p)×\(p) pool")
        if p == 1 {
            output = Tensor.uninitialized([batch, ho, wo, c]) { y in
                conv.forwardChunks(x, g, extraFloatsPerImage: perImage, output: { y + $0.start * perImage }) { chunk, result in
                    parallelRanges(chunk.count * g.outHeight, minimumPerThread: 4, parallel: chunk.parallel) { rows in
                        let rowFloats = g.outWidth * c
                        let start = result + rows.lowerBound * rowFloats
                        for i in 0..<(rows.count * rowFloats) { start[i] = max(start[i], 0) }
                    }
                }
            }
            return output
        }
        let pooledPerImage = ho * wo * c
        if winners.count != batch * pooledPerImage { winners = [UInt8](repeating: 0, count: batch * pooledPerImage) }
        output = winners.withUnsafeMutableBufferPointer { pw in
            let codes = pw.baseAddress!
            return Tensor.uninitialized([batch, ho, wo, c]) { y in
                conv.forwardChunks(x, g, extraFloatsPerImage: perImage, output: { $0.scratch }) { chunk, result in
                    let offset = chunk.start * pooledPerImage
                    poolReLU(result, images: chunk.count, g, y: y + offset, codes: codes + offset, parallel: chunk.parallel)
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "ConvReLUPool \(conv.weight.name): gradient \(dy.shape) does not match output \(output.shape)")
        guard let g = conv.geometry else { preconditionFailure("ConvReLUPool \(conv.weight.name): backward before forward") }
        let batch = dy.shape[0], perImage = g.pixelsPerImage * conv.outChannels
        let y = output, pooledPerImage = y.count / max(1, batch)
        return dy.withUnsafeBufferPointer { pdy in
            y.withUnsafeBufferPointer { py in
                winners.withUnsafeBufferPointer { pw in
                    conv.backwardChunks(extraFloatsPerImage: perImage) { chunk in
                        let offset = chunk.start * pooledPerImage
                        if poolSize == 1 {
                            maskedGradient(pdy.baseAddress! + offset, output: py.baseAddress! + offset,
                                           count: chunk.count * perImage, into: chunk.scratch, parallel: chunk.parallel)
                        } else {
                            unpoolGradient(pdy.baseAddress! + offset, output: py.baseAddress! + offset,
                                           codes: pw.baseAddress! + offset, images: chunk.count, g,
                                           into: chunk.scratch, parallel: chunk.parallel)
                        }
                        return UnsafePointer(chunk.scratch)
                    }
                }
            }
        }
    }

    /// y, codes (n, Ho/p, Wo/p, C) ← relu and argmax of the max over p×p windows of a (n, Ho, Wo, C) chunk.
    private func poolReLU(_ src: UnsafePointer<Float>, images: Int, _ g: ConvGeometry,
                          y: UnsafeMutablePointer<Float>, codes: UnsafeMutablePointer<UInt8>, parallel: Bool) {
        let p = poolSize, c = conv.outChannels, h = g.outHeight, w = g.outWidth
        let ho = h / p, wo = w / p
        parallelRanges(images * ho, minimumPerThread: 4, parallel: parallel) { range in
            if p == 2 && h % 2 == 0 && w % 2 == 0 {
                rk_pool2x2_winners(src, nil, 0, ho, wo, c, range.lowerBound, range.upperBound, y, codes)
                return
            }
            for r in range {
                let image = src + (r / ho) * h * w * c, oy = r % ho
                for ox in 0..<wo {
                    let o = (r * wo + ox) * c
                    let first = image + (oy * p * w + ox * p) * c
                    let out = y + o, code = codes + o
                    for ch in 0..<c {
                        var m = first[ch], k: UInt8 = 0
                        for ky in 0..<p {
                            for kx in 0..<p where ky + kx > 0 {
                                let v = first[(ky * w + kx) * c + ch]
                                if v > m { m = v; k = UInt8(ky * p + kx) }
                            }
                        }
                        out[ch] = max(m, 0)
                        code[ch] = k
                    }
                }
            }
        }
    }

    /// dst (n, Ho, Wo, C) ← each pooled gradient routed to its window's maximum where the pooled
    /// output is positive (ReLU passes it), zero elsewhere.
    private func unpoolGradient(_ dy: UnsafePointer<Float>, output: UnsafePointer<Float>, codes: UnsafePointer<UInt8>,
                                images: Int, _ g: ConvGeometry, into dst: UnsafeMutablePointer<Float>, parallel: Bool) {
        let p = poolSize, c = conv.outChannels, h = g.outHeight, w = g.outWidth
        let ho = h / p, wo = w / p
        parallelRanges(images * ho, minimumPerThread: 4, parallel: parallel) { range in
            // The common case writes every element of its 2×2 windows, zeros included.
            if p == 2 && h % 2 == 0 && w % 2 == 0 {
                var routing = rk_unpool2x2(gradient: dy, output: output, scale: nil, codes: codes, input: nil,
                                           slope: nil, centre: nil, offset: nil, pooled_height: ho, pooled_width: wo, channels: c)
                rk_unpool2x2_gradient(&routing, range.lowerBound, range.upperBound, dst)
                return
            }
            for r in range {
                let oy = r % ho
                let image = dst + (r / ho) * h * w * c
                // This pooled row's p input rows, plus any rows no window covers below the last.
                let lastRow = oy == ho - 1 ? h : (oy + 1) * p
                (image + oy * p * w * c).update(repeating: 0, count: (lastRow - oy * p) * w * c)
                for ox in 0..<wo {
                    let o = (r * wo + ox) * c
                    let first = image + (oy * p * w + ox * p) * c
                    for ch in 0..<c where output[o + ch] > 0 {
                        let k = Int(codes[o + ch])
                        first[((k / p) * w + k % p) * c + ch] = dy[o + ch]
                    }
                }
            }
        }
    }

    /// dst ← dy where the output is positive, 0 elsewhere.
    private func maskedGradient(_ dy: UnsafePointer<Float>, output: UnsafePointer<Float>, count: Int,
                                into dst: UnsafeMutablePointer<Float>, parallel: Bool) {
        parallelRanges(count, minimumPerThread: 1 << 14, parallel: parallel) { range in
            for i in range { dst[i] = output[i] > 0 ? dy[i] : 0 }
        }
    }
}
