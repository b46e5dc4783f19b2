// Global gradient-norm clipping: one L2 norm over every gradient (accumulated in Double),
// and a single in-place scale when it exceeds the limit. A non-finite norm is returned as
// is and the gradients are left alone, so the caller can skip the step and say why.

/// The L2 norm of all gradients together, accumulated in Double.
public func gradientNorm(_ parameters: [Parameter]) -> Double {
    var total = 0.0
    for p in parameters { total += sumOfSquares(p.gradient) }
    return total.squareRoot()
}

/// Scales every gradient by the same factor so their global L2 norm is at most `maxNorm`.
///
/// Returns the norm before clipping. When that norm is NaN or infinite the gradients are not
/// touched (scaling would turn every gradient into NaN and hide which one broke); the caller
/// should skip the optimizer step and consult `GradientReport.nonFiniteParameters`.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "maxNorm must be positive, got \(maxNorm)")
    let norm = gradientNorm(parameters)
    guard norm.isFinite else { return Float(norm) }
    if norm > Double(maxNorm) {
        let scale = Float(Double(maxNorm) / norm)
        for p in parameters {
            p.gradient.withUnsafeMutableBufferPointer { g in
                for j in g.indices { g[j] *= scale }
            }
        }
    }
    return Float(norm)
}

/// Σx² of a tensor, every square taken and summed in Double (four running sums, so the
/// loop pipelines); a Float square would overflow for |x| > 1.8e19.
func sumOfSquares(_ tensor: Tensor) -> Double {
    tensor.withUnsafeBufferPointer { buffer in
        let n = buffer.count
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var j = 0
        while j + 4 <= n {
            let a = Double(buffer[j]), b = Double(buffer[j + 1])
            let c = Double(buffer[j + 2]), d = Double(buffer[j + 3])
            s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
            j += 4
        }
        while j < n { let a = Double(buffer[j]); s0 += a * a; j += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
