// Pools a padded batch of token vectors into one vector per sequence with a learned query:
// keys and values are linear maps of the tokens, weights a softmax of key·q/√D over the valid
// tokens only. Padding gets exactly zero weight; an empty sequence pools to the zero vector.
import Foundation

/// (B, T, D) tokens + validity mask → (B, D) = Σ_t softmax_t(k_t·q/√D) v_t.
public final class AttentionPooling: Module {
    public let dimension: Int
    /// q (D): the learned query, `name.query`.
    public let query: Parameter
    /// Keys `name.key.{weight,bias}` and values `name.value.{weight,bias}`, PyTorch layout.
    public let key: Linear
    public let value: Linear
    /// The attention weights (B, T) of the last forward: zero on padding.
    public private(set) var weights = Tensor(zeros: [0])
    private var keys = Tensor(zeros: [0])
    private var values = Tensor(zeros: [0])
    private var batch = 0, length = 0

    public init(dimension: Int, name: String, rng: inout SeededGenerator) {
        precondition(dimension > 0, "AttentionPooling \(name): dimension must be positive")
        self.dimension = dimension
        // N(0, 1/D), as the reference (and CLIP's attention pool) starts: the initial scores k·q/√D
        // then spread enough for the attention to prefer some words from the first step.
        query = Parameter(name: name + ".query",
                          value: Tensor(randomNormal: [dimension], std: 1 / Float(dimension).squareRoot(), using: &rng),
                          role: .weight)
        key = Linear(inputs: dimension, outputs: dimension, name: name + ".key", rng: &rng)
        value = Linear(inputs: dimension, outputs: dimension, name: name + ".value", rng: &rng)
    }

    public var parameters: [Parameter] { [query] + key.parameters + value.parameters }

    private init(sharing other: AttentionPooling) {
        (dimension, query, key, value) = (other.dimension, other.query, other.key.copy(), other.value.copy())
    }

    /// The same pooling over the same parameters, with caches of its own: for inference.
    public func copy() -> AttentionPooling { AttentionPooling(sharing: self) }

    /// Sequence b's first `lengths[b]` tokens are valid, the rest padding.
    public func forward(_ x: Tensor, lengths: [Int]) -> Tensor {
        precondition(x.rank == 3 && lengths.count == x.shape[0], "AttentionPooling: \(lengths.count) lengths for input \(x.shape)")
        let t = x.shape[1]
        var mask = [Bool](repeating: false, count: x.shape[0] * t)
        for (b, n) in lengths.enumerated() {
            precondition(n >= 0 && n <= t, "AttentionPooling: length \(n) outside 0...\(t)")
            for i in 0..<n { mask[b * t + i] = true }
        }
        return forward(x, mask: mask)
    }

    /// mask (B·T): true where a token is real.
    public func forward(_ x: Tensor, mask: [Bool]) -> Tensor {
        let d = dimension
        precondition(x.rank == 3 && x.shape[2] == d && mask.count == x.shape[0] * x.shape[1],
                     "AttentionPooling \(query.name): input \(x.shape) must be (B, T, \(d)) with a mask of B·T = \(mask.count)")
        batch = x.shape[0]
        length = x.shape[1]
        keys = key.forward(x)
        values = value.forward(x)
        let (bt, t) = (batch * length, length)
        // scores (B·T) = keys (B·T, D) · q / √D
        var scores = [Float](repeating: 0, count: bt)
        keys.withUnsafeBufferPointer { pk in
            query.value.withUnsafeBufferPointer { pq in
                scores.withUnsafeMutableBufferPointer { ps in
                    gemm(.none, .none, m: bt, n: 1, k: d, alpha: 1 / Float(d).squareRoot(),
                         a: pk.baseAddress!, lda: d, b: pq.baseAddress!, ldb: 1, c: ps.baseAddress!, ldc: 1)
                }
            }
        }
        weights = Tensor.uninitialized([batch, t]) { a in
            for b in 0..<batch {
                var top = -Float.infinity
                for i in 0..<t where mask[b * t + i] { top = max(top, scores[b * t + i]) }
                var total: Float = 0
                for i in 0..<t {
                    let e = mask[b * t + i] ? expf(scores[b * t + i] - top) : 0
                    a[b * t + i] = e
                    total += e
                }
                let inv = total > 0 ? 1 / total : 0
                for i in 0..<t { a[b * t + i] *= inv }
            }
        }
        // y_b (1, D) = a_b (1, T) · V_b (T, D)
        var y = Tensor(zeros: [batch, d])
        weights.withUnsafeBufferPointer { pa in
            values.withUnsafeBufferPointer { pv in
                y.withUnsafeMutableBufferPointer { py in
                    gemmBatched(.none, .none, count: batch, m: 1, n: d, k: t,
                                a: pa.baseAddress!, lda: t, strideA: t, b: pv.baseAddress!, ldb: d, strideB: t * d,
                                c: py.baseAddress!, ldc: d, strideC: d)
                }
            }
        }
        return y
    }

    /// Returns dX (B, T, D) for gradOutput (B, D); padding tokens get zero gradient.
    public func backward(_ dy: Tensor) -> Tensor {
        let d = dimension, t = length, bt = batch * length
        precondition(dy.shape == [batch, d], "AttentionPooling \(query.name): gradient \(dy.shape) must be [\(batch), \(d)]")
        var dValues = Tensor(zeros: [batch, t, d])
        var dWeights = [Float](repeating: 0, count: bt)
        weights.withUnsafeBufferPointer { pa in
            dy.withUnsafeBufferPointer { pdy in
                values.withUnsafeBufferPointer { pv in
                    // dV_b (T, D) = a_bᵀ (T, 1) · dy_b (1, D);  da_b (T) = V_b (T, D) · dy_b (D)
                    dValues.withUnsafeMutableBufferPointer { pdv in
                        gemmBatched(.none, .none, count: batch, m: t, n: d, k: 1,
                                    a: pa.baseAddress!, lda: 1, strideA: t, b: pdy.baseAddress!, ldb: d, strideB: d,
                                    c: pdv.baseAddress!, ldc: d, strideC: t * d)
                    }
                    dWeights.withUnsafeMutableBufferPointer { pda in
                        gemmBatched(.none, .none, count: batch, m: t, n: 1, k: d,
                                    a: pv.baseAddress!, lda: d, strideA: t * d, b: pdy.baseAddress!, ldb: 1, strideB: d,
                                    c: pda.baseAddress!, ldc: 1, strideC: t)
                    }
                }
            }
        }
        // Softmax backward: ds = a ⊙ (da − Σ a·da), scaled by 1/√D for the score's factor.
        let scale = 1 / Float(d).squareRoot()
        var dScores = [Float](repeating: 0, count: bt)
        for b in 0..<batch {
            var dot: Float = 0
            for i in 0..<t { dot += weights[b * t + i] * dWeights[b * t + i] }
            for i in 0..<t { dScores[b * t + i] = weights[b * t + i] * (dWeights[b * t + i] - dot) * scale }
        }
        // dK (B·T, D) = ds (B·T, 1) · qᵀ (1, D);  dq (D) += Kᵀ (D, B·T) · ds (B·T)
        var dKeys = Tensor(zeros: [batch, t, d])
        dScores.withUnsafeBufferPointer { pds in
            query.value.withUnsafeBufferPointer { pq in
                dKeys.withUnsafeMutableBufferPointer { pdk in
                    gemm(.none, .none, m: bt, n: d, k: 1, a: pds.baseAddress!, lda: 1, b: pq.baseAddress!, ldb: d,
                         c: pdk.baseAddress!, ldc: d)
                }
            }
            keys.withUnsafeBufferPointer { pk in
                query.gradient.withUnsafeMutableBufferPointer { pdq in
                    gemm(.transposed, .none, m: d, n: 1, k: bt, a: pk.baseAddress!, lda: d, b: pds.baseAddress!, ldb: 1,
                         beta: 1, c: pdq.baseAddress!, ldc: 1)
                }
            }
        }
        var dx = key.backward(dKeys)
        let dxValues = value.backward(dValues)
        dx.withUnsafeMutableBufferPointer { p in
            dxValues.withUnsafeBufferPointer { q in addFloats(p.baseAddress!, q.baseAddress!, p.count) }
        }
        return dx
    }
}
