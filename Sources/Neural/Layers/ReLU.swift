// max(0, x) elementwise. Keeps its output for backward: the gradient passes where y > 0.

/// y = max(0, x), any shape.
public final class ReLU: Layer {
    private var output = Tensor(zeros: [0])

    public init() {}

    public func evaluationCopy() -> any Layer { ReLU() }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        output = Tensor.uninitialized(x.shape) { y in
            x.withUnsafeBufferPointer { px in
                let p = px.baseAddress!
                for i in 0..<px.count { y[i] = max(p[i], 0) }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "ReLU: gradient \(dy.shape) does not match output \(output.shape)")
        let y = output
        return Tensor.uninitialized(dy.shape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                y.withUnsafeBufferPointer { py in
                    let g = pdy.baseAddress!, o = py.baseAddress!
                    for i in 0..<pdy.count { dx[i] = o[i] > 0 ? g[i] : 0 }
                }
            }
        }
    }
}
