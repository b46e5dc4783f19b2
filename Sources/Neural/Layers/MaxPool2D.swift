// Max pooling over NHWC windows (no padding, floor division of the output size). Forward keeps
// the winning offset of every output element; backward routes each gradient to that one input.

/// y (B, Ho, Wo, C) = max over kernel×kernel windows of x (B, H, W, C), Ho = (H − k) / stride + 1.
public final class MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    private var inputShape: [Int] = []
    /// Per output element, the input offset within its image (h·W + w)·C + c of the maximum.
    private var winners: [Int32] = []

    public init(kernelSize: Int = 2, stride: Int? = nil) {
        precondition(kernelSize > 0 && (stride ?? kernelSize) > 0, "MaxPool2D: kernel and stride must be positive")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public var parameters: [Parameter] { [] }
    public func evaluationCopy() -> any Layer { MaxPool2D(kernelSize: kernelSize, stride: stride) }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] >= kernelSize && x.shape[2] >= kernelSize,
                     "MaxPool2D: input \(x.shape) must be (B, H, W, C) with H, W ≥ \(kernelSize)")
        let (batch, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h * w * c <= Int(Int32.max), "MaxPool2D: image of \(h)×\(w)×\(c) too large")
        let ho = (h - kernelSize) / stride + 1, wo = (w - kernelSize) / stride + 1
        inputShape = x.shape
        let outCount = batch * ho * wo * c
        if winners.count != outCount { winners = [Int32](repeating: 0, count: outCount) }
        let k = kernelSize, s = stride
        return Tensor.uninitialized([batch, ho, wo, c]) { y in
            x.withUnsafeBufferPointer { px in
                winners.withUnsafeMutableBufferPointer { pw in
                    let win = pw.baseAddress!
                    parallelRanges(batch * ho, minimumPerThread: 8) { range in
                        for r in range {
                            let b = r / ho, oy = r % ho
                            let image = px.baseAddress! + b * h * w * c
                            for ox in 0..<wo {
                                let o = (r * wo + ox) * c
                                let first = (oy * s * w + ox * s) * c
                                for ch in 0..<c {
                                    y[o + ch] = image[first + ch]
                                    win[o + ch] = Int32(first + ch)
                                }
                                for ky in 0..<k {
                                    for kx in 0..<k where ky + kx > 0 {
                                        let base = ((oy * s + ky) * w + ox * s + kx) * c
                                        for ch in 0..<c {
                                            let v = image[base + ch], better = v > y[o + ch]
                                            y[o + ch] = better ? v : y[o + ch]
                                            win[o + ch] = better ? Int32(base + ch) : win[o + ch]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.count == winners.count && dy.rank == 4 && dy.shape[0] == inputShape[0],
                     "MaxPool2D: gradient \(dy.shape) does not match the last output for input \(inputShape)")
        let batch = inputShape[0], imageSize = inputShape[1] * inputShape[2] * inputShape[3]
        let perImage = dy.count / max(1, batch)
        var dx = Tensor(zeros: inputShape)
        dy.withUnsafeBufferPointer { pdy in
            winners.withUnsafeBufferPointer { pw in
                dx.withUnsafeMutableBufferPointer { pdx in
                    for b in 0..<batch {
                        let d = pdx.baseAddress! + b * imageSize
                        let g = pdy.baseAddress! + b * perImage, win = pw.baseAddress! + b * perImage
                        for i in 0..<perImage { d[Int(win[i])] += g[i] }
                    }
                }
            }
        }
        return dx
    }
}
