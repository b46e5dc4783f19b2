// Averages every channel over the whole image: (B, H, W, C) → (B, C). Backward spreads each
// gradient evenly over the H·W positions it came from.

/// y (B, C) = mean over H, W of x (B, H, W, C).
public final class GlobalAveragePool: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func evaluationCopy() -> any Layer { GlobalAveragePool() }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] * x.shape[2] > 0, "GlobalAveragePool: input \(x.shape) must be (B, H, W, C), H·W > 0")
        inputShape = x.shape
        let (batch, pixels, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        let scale = 1 / Float(pixels)
        var y = Tensor(zeros: [batch, c])
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                for b in 0..<batch {
                    let out = py.baseAddress! + b * c
                    let image = px.baseAddress! + b * pixels * c
                    for p in 0..<pixels {
                        let row = image + p * c
                        for ch in 0..<c { out[ch] += row[ch] }
                    }
                    for ch in 0..<c { out[ch] *= scale }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (batch, pixels, c) = (inputShape[0], inputShape[1] * inputShape[2], inputShape[3])
        precondition(dy.shape == [batch, c], "GlobalAveragePool: gradient \(dy.shape) must be [\(batch), \(c)]")
        let scale = 1 / Float(pixels)
        return Tensor.uninitialized(inputShape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                for b in 0..<batch {
                    let g = pdy.baseAddress! + b * c
                    let image = dx + b * pixels * c
                    for ch in 0..<c { image[ch] = g[ch] * scale }
                    for p in 1..<max(1, pixels) { (image + p * c).update(from: image, count: c) }
                }
            }
        }
    }
}
