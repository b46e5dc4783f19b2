// Layer normalisation over the last dimension (PyTorch's LayerNorm(D)): each row is centred and
// scaled by its own mean and variance, then by a learned γ and β. Keeps x̂ and 1/σ per row.

/// y (…, D) = γ·(x − μ_row)/√(σ²_row + ε) + β.
public final class LayerNorm: Layer {
    public let dimension: Int
    public let epsilon: Float
    /// γ (D), initially ones.
    public let weight: Parameter
    /// β (D), initially zeros.
    public let bias: Parameter
    private var normalized = Tensor(zeros: [0])
    private var inverseStd = [Float]()

    public init(dimension: Int, epsilon: Float = 1e-5, name: String) {
        precondition(dimension > 0, "LayerNorm \(name): dimension must be positive")
        self.dimension = dimension
        self.epsilon = epsilon
        weight = Parameter(name: name + ".weight", value: Tensor(shape: [dimension], repeating: 1), role: .normalization)
        bias = Parameter(name: name + ".bias", value: Tensor(zeros: [dimension]), role: .bias)
    }

    public var parameters: [Parameter] { [weight, bias] }

    private init(sharing other: LayerNorm) {
        (dimension, epsilon, weight, bias) = (other.dimension, other.epsilon, other.weight, other.bias)
    }

    public func evaluationCopy() -> any Layer { LayerNorm(sharing: self) }

    public func forward(_ x: Tensor) -> Tensor {
        let d = dimension
        precondition(x.rank >= 1 && x.shape.last == d, "LayerNorm \(weight.name): input \(x.shape) must end in \(d)")
        let rows = x.count / d
        if inverseStd.count != rows { inverseStd = [Float](repeating: 0, count: rows) }
        let gamma = weight.value, beta = bias.value
        var y = Tensor.uninitialized(x.shape) { _ in }
        normalized = Tensor.uninitialized(x.shape) { xhat in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    gamma.withUnsafeBufferPointer { pg in
                        beta.withUnsafeBufferPointer { pb in
                            inverseStd.withUnsafeMutableBufferPointer { pinv in
                                for r in 0..<rows {
                                    let xr = px.baseAddress! + r * d, hr = xhat + r * d, yr = py.baseAddress! + r * d
                                    var sum: Float = 0
                                    for j in 0..<d { sum += xr[j] }
                                    let mean = sum / Float(d)
                                    var squares: Float = 0
                                    for j in 0..<d { let c = xr[j] - mean; squares += c * c }
                                    let inv = 1 / (squares / Float(d) + epsilon).squareRoot()
                                    pinv[r] = inv
                                    for j in 0..<d {
                                        let h = (xr[j] - mean) * inv
                                        hr[j] = h
                                        yr[j] = pg[j] * h + pb[j]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let d = dimension, rows = normalized.count / d
        precondition(dy.shape == normalized.shape, "LayerNorm \(weight.name): gradient \(dy.shape) does not match input \(normalized.shape)")
        let xhat = normalized, gamma = weight.value, inv = inverseStd
        return Tensor.uninitialized(dy.shape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                xhat.withUnsafeBufferPointer { ph in
                    gamma.withUnsafeBufferPointer { pg in
                        weight.gradient.withUnsafeMutableBufferPointer { pdg in
                            bias.gradient.withUnsafeMutableBufferPointer { pdb in
                                for r in 0..<rows {
                                    let g = pdy.baseAddress! + r * d, h = ph.baseAddress! + r * d, out = dx + r * d
                                    // dx̂ = dy·γ; dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ
                                    var meanG: Float = 0, meanGH: Float = 0
                                    for j in 0..<d {
                                        let gh = g[j] * pg[j]
                                        meanG += gh
                                        meanGH += gh * h[j]
                                        pdg[j] += g[j] * h[j]
                                        pdb[j] += g[j]
                                    }
                                    meanG /= Float(d)
                                    meanGH /= Float(d)
                                    for j in 0..<d { out[j] = (g[j] * pg[j] - meanG - h[j] * meanGH) * inv[r] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
