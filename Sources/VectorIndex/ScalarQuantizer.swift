// An 8-bit scalar quantiser (FAISS QT_8bit): per-dimension minimum and step trained on data,
// each value stored as one byte, 4× less memory than Float32. A query's dot product with a
// code is bias(q) + Σ (q·step)[j]·code[j], so search never decodes rows one by one.
import Neural

/// Per-dimension affine 8-bit codes: x ≈ minimum[j] + step[j]·code.
public struct ScalarQuantizer: Sendable, Equatable {
    public let dimension: Int
    /// Smallest value seen per dimension in training.
    public let minimum: [Float]
    /// (max − min) / 255 per dimension; 0 for a constant dimension.
    public let step: [Float]

    /// Restores a trained quantiser (from an index file).
    public init(minimum: [Float], step: [Float]) {
        precondition(minimum.count == step.count,
                     "ScalarQuantizer: minimum has \(minimum.count) values, step \(step.count)")
        self.dimension = minimum.count
        self.minimum = minimum
        self.step = step
    }

    /// Trains the ranges on the rows of an (n, d) tensor.
    public init(training rows: Tensor) {
        precondition(rows.rank == 2 && rows.shape[0] > 0,
                     "ScalarQuantizer needs a non-empty (n, d) tensor, got \(rows.shape)")
        self = rows.withUnsafeBufferPointer { ScalarQuantizer(training: $0, dimension: rows.shape[1]) }
    }

    /// Trains the ranges on `floats`, rows of `dimension` values one after another (at least one).
    public init(training floats: UnsafeBufferPointer<Float>, dimension d: Int) {
        precondition(d > 0 && floats.count >= d && floats.count % d == 0,
                     "ScalarQuantizer needs whole rows of \(d), got \(floats.count) values")
        let n = floats.count / d
        var lo = [Float](repeating: .infinity, count: d)
        var hi = [Float](repeating: -.infinity, count: d)
        for i in 0..<n {
            let r = floats.baseAddress! + i * d
            for j in 0..<d {
                lo[j] = min(lo[j], r[j])
                hi[j] = max(hi[j], r[j])
            }
        }
        self.init(lowest: lo, highest: hi)
    }

    /// Codes spanning [lowest[j], highest[j]] in 255 steps per dimension.
    init(lowest lo: [Float], highest hi: [Float]) {
        self.init(minimum: lo, step: zip(lo, hi).map { ($1 - $0) / 255 })
    }

    /// Largest value coded per dimension.
    public var maximum: [Float] { zip(minimum, step).map { $0 + 255 * $1 } }

    /// Whether every range of `other` lies inside this one's.
    public func covers(_ other: ScalarQuantizer) -> Bool {
        let (hi, otherHi) = (maximum, other.maximum)
        return (0..<dimension).allSatisfy { minimum[$0] <= other.minimum[$0] && otherHi[$0] <= hi[$0] }
    }

    /// The ranges of both, dimension by dimension.
    public func widened(to other: ScalarQuantizer) -> ScalarQuantizer {
        let lo = zip(minimum, other.minimum).map { Swift.min($0, $1) }
        return ScalarQuantizer(lowest: lo, highest: zip(maximum, other.maximum).map { Swift.max($0, $1) })
    }

    /// Codes for `count` rows of `dimension` Floats, row-major.
    public func encode(_ rows: UnsafePointer<Float>, count: Int) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: count * dimension)
        let inverse = step.map { $0 > 0 ? 1 / $0 : 0 }
        codes.withUnsafeMutableBufferPointer { out in
            minimum.withUnsafeBufferPointer { lo in
                inverse.withUnsafeBufferPointer { inv in
                    for i in 0..<count {
                        let r = rows + i * dimension, o = out.baseAddress! + i * dimension
                        for j in 0..<dimension {
                            let v = ((r[j] - lo[j]) * inv[j]).rounded()
                            o[j] = UInt8(max(0, min(255, v)))
                        }
                    }
                }
            }
        }
        return codes
    }

    /// Decodes `count` rows of codes into Floats at `out`.
    public func decode(_ codes: UnsafePointer<UInt8>, count: Int, into out: UnsafeMutablePointer<Float>) {
        minimum.withUnsafeBufferPointer { lo in
            step.withUnsafeBufferPointer { st in
                for i in 0..<count {
                    let c = codes + i * dimension, o = out + i * dimension
                    for j in 0..<dimension { o[j] = lo[j] + st[j] * Float(c[j]) }
                }
            }
        }
    }

    /// Writes q'[j] = q[j]·step[j] and returns Σ q[j]·minimum[j], so q·x̂ = bias + q'·code.
    @usableFromInline
    func transform(query q: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) -> Float {
        var bias: Float = 0
        for j in 0..<dimension {
            out[j] = q[j] * step[j]
            bias += q[j] * minimum[j]
        }
        return bias
    }
}
