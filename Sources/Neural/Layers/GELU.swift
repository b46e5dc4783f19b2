// GELU with the tanh approximation (GPT-2's, PyTorch's `approximate="tanh"`):
// y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Keeps its input for backward.
import Foundation

/// Smooth ReLU-like activation, any shape (tanh approximation, not erf).
public final class GELU: Layer {
    private var input = Tensor(zeros: [0])
    private static let c: Float = (2 / Float.pi).squareRoot()
    private static let a: Float = 0.044715

    public init() {}

    public func evaluationCopy() -> any Layer { GELU() }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        return Tensor.uninitialized(x.shape) { y in
            x.withUnsafeBufferPointer { px in
                let p = px.baseAddress!
                for i in 0..<px.count {
                    let v = p[i]
                    y[i] = 0.5 * v * (1 + tanhf(Self.c * (v + Self.a * v * v * v)))
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == input.shape, "GELU: gradient \(dy.shape) does not match input \(input.shape)")
        let x = input
        return Tensor.uninitialized(dy.shape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                x.withUnsafeBufferPointer { px in
                    let g = pdy.baseAddress!, p = px.baseAddress!
                    for i in 0..<pdy.count {
                        let v = p[i]
                        let t = tanhf(Self.c * (v + Self.a * v * v * v))
                        let du = Self.c * (1 + 3 * Self.a * v * v)
                        dx[i] = g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du)
                    }
                }
            }
        }
    }
}
