// A fully connected layer y = x·Wᵀ + b over the last dimension, with W stored (out, in) as
// PyTorch stores it so safetensors files move between the two unchanged. All three products
// (forward, dW, dX) are single `gemm` calls over every row of the input.

/// y (…, out) = x (…, in) · Wᵀ + b; any leading dimensions are treated as rows.
public final class Linear: Layer {
    public let inputs: Int
    public let outputs: Int
    /// (out, in)
    public let weight: Parameter
    /// (out), nil when built with `bias: false`.
    public let bias: Parameter?
    private var input = Tensor(zeros: [0])

    /// Creates `name.weight` and `name.bias`, both U(−1/√in, 1/√in) as PyTorch initialises them.
    public init(inputs: Int, outputs: Int, bias: Bool = true, name: String, rng: inout SeededGenerator) {
        precondition(inputs > 0 && outputs > 0, "Linear \(name): sizes must be positive, got \(inputs)→\(outputs)")
        self.inputs = inputs
        self.outputs = outputs
        weight = Parameter(name: name + ".weight",
                           value: .pytorchDefault([outputs, inputs], fanIn: inputs, using: &rng), role: .weight)
        self.bias = bias
            ? Parameter(name: name + ".bias", value: .pytorchDefault([outputs], fanIn: inputs, using: &rng), role: .bias)
            : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    private init(sharing other: Linear) {
        (inputs, outputs, weight, bias) = (other.inputs, other.outputs, other.weight, other.bias)
    }

    public func evaluationCopy() -> any Layer { copy() }
    /// The same layer over the same parameters, with caches of its own.
    public func copy() -> Linear { Linear(sharing: self) }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape.last == inputs,
                     "Linear \(weight.name): input \(x.shape) must end in \(inputs)")
        input = x
        let rows = x.count / inputs
        var shape = x.shape
        shape[shape.count - 1] = outputs
        if rows == 0 { return Tensor(zeros: shape) }
        let w = weight.value, b = bias?.value
        return Tensor.uninitialized(shape) { y in
            if let b {
                b.withUnsafeBufferPointer { pb in
                    for r in 0..<rows { (y + r * outputs).update(from: pb.baseAddress!, count: outputs) }
                }
            }
            x.withUnsafeBufferPointer { px in
                w.withUnsafeBufferPointer { pw in
                    gemm(.none, .transposed, m: rows, n: outputs, k: inputs,
                         a: px.baseAddress!, lda: inputs, b: pw.baseAddress!, ldb: inputs,
                         beta: b == nil ? 0 : 1, c: y, ldc: outputs)
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let rows = input.count / inputs
        precondition(dy.count == rows * outputs && dy.shape.last == outputs,
                     "Linear \(weight.name): gradient \(dy.shape) does not match output of input \(input.shape)")
        let x = input, w = weight.value
        if rows == 0 { return Tensor(zeros: x.shape) }
        dy.withUnsafeBufferPointer { pdy in
            x.withUnsafeBufferPointer { px in
                weight.gradient.withUnsafeMutableBufferPointer { pg in
                    // dW (out, in) += dyᵀ (out, rows) · x (rows, in)
                    gemm(.transposed, .none, m: outputs, n: inputs, k: rows,
                         a: pdy.baseAddress!, lda: outputs, b: px.baseAddress!, ldb: inputs,
                         beta: 1, c: pg.baseAddress!, ldc: inputs)
                }
            }
            if let bias {
                bias.gradient.withUnsafeMutableBufferPointer { pg in
                    let g = pg.baseAddress!
                    for r in 0..<rows { addFloats(g, pdy.baseAddress! + r * outputs, outputs) }
                }
            }
        }
        return Tensor.uninitialized(x.shape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                w.withUnsafeBufferPointer { pw in
                    // dx (rows, in) = dy (rows, out) · W (out, in)
                    gemm(.none, .none, m: rows, n: inputs, k: outputs,
                         a: pdy.baseAddress!, lda: outputs, b: pw.baseAddress!, ldb: inputs,
                         c: dx, ldc: inputs)
                }
            }
        }
    }
}
