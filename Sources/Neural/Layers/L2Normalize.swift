// Scales every row to unit Euclidean length, as F.normalize(x, dim=-1, eps=ε) does:
// y = x / max(‖x‖, ε), so an all-zero row gives zeros, never NaN.

/// y (…, D) = x / max(‖x_row‖, ε); no parameters.
public final class L2Normalize: Layer {
    public let epsilon: Float
    private var output = Tensor(zeros: [0])
    private var norms = [Float]()  // max(‖x_row‖, ε)
    private var clamped = [Bool]()

    public init(epsilon: Float = 1e-6) {
        precondition(epsilon > 0, "L2Normalize: epsilon must be positive")
        self.epsilon = epsilon
    }

    public var parameters: [Parameter] { [] }
    public func evaluationCopy() -> any Layer { L2Normalize(epsilon: epsilon) }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape.last! > 0, "L2Normalize: input \(x.shape) needs a non-empty last dimension")
        let d = x.shape.last!, rows = x.count / d
        norms = [Float](repeating: 0, count: rows)
        clamped = [Bool](repeating: false, count: rows)
        output = Tensor.uninitialized(x.shape) { y in
            x.withUnsafeBufferPointer { px in
                for r in 0..<rows {
                    let xr = px.baseAddress! + r * d, yr = y + r * d
                    var s: Float = 0
                    for j in 0..<d { s += xr[j] * xr[j] }
                    let norm = s.squareRoot()
                    clamped[r] = norm < epsilon
                    norms[r] = max(norm, epsilon)
                    let inv = 1 / norms[r]
                    for j in 0..<d { yr[j] = xr[j] * inv }
                }
            }
        }
        return output
    }

    /// dx = (dy − y·(y·dy)) / ‖x‖; where the norm was clamped to ε, y = x/ε is linear: dx = dy/ε.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "L2Normalize: gradient \(dy.shape) does not match output \(output.shape)")
        let d = dy.shape.last!, rows = dy.count / d, y = output
        return Tensor.uninitialized(dy.shape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                y.withUnsafeBufferPointer { py in
                    for r in 0..<rows {
                        let g = pdy.baseAddress! + r * d, yr = py.baseAddress! + r * d, out = dx + r * d
                        let inv = 1 / norms[r]
                        var dot: Float = 0
                        if !clamped[r] { for j in 0..<d { dot += yr[j] * g[j] } }
                        for j in 0..<d { out[j] = (g[j] - yr[j] * dot) * inv }
                    }
                }
            }
        }
    }
}
