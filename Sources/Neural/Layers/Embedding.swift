// A lookup table from token ids to vectors. Padding ids (0) give zero vectors; their row stays
// zero, is frozen and never receives gradient. Backward adds into the rows the batch used and records them in
// `touchedRows`, so zeroing and sparse optimizers visit only those rows.

/// ids (B·T) → vectors (B, T, D); a `Module` because its input is ids, not a tensor.
public final class Embedding: Module {
    public let vocabularySize: Int
    public let dimension: Int
    /// The id whose row is zero and frozen (PyTorch's padding_idx); nil for none.
    public let paddingID: Int32?
    /// (vocabularySize, D), role `.embedding`, sparse gradient.
    public let weight: Parameter
    private var ids: [Int32] = []
    private var outputShape: [Int] = []

    /// Creates `name.weight` with N(0, std²) rows and a zero padding row.
    public init(vocabularySize: Int, dimension: Int, paddingID: Int32? = 0, std: Float = 0.02,
                name: String, rng: inout SeededGenerator) {
        precondition(vocabularySize > 0 && dimension > 0, "Embedding \(name): sizes must be positive")
        precondition(paddingID.map { $0 >= 0 && Int($0) < vocabularySize } ?? true,
                     "Embedding \(name): padding id \(paddingID!) outside 0..<\(vocabularySize)")
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        self.paddingID = paddingID
        var table = Tensor(randomNormal: [vocabularySize, dimension], std: std, using: &rng)
        if let pad = paddingID {
            for j in 0..<dimension { table[Int(pad) * dimension + j] = 0 }
        }
        weight = Parameter(name: name + ".weight", value: table, role: .embedding)
        weight.frozenRows = paddingID.map { [Int($0)] } ?? []
        weight.touchedRows = []
    }

    public var parameters: [Parameter] { [weight] }

    private init(sharing other: Embedding) {
        (vocabularySize, dimension, paddingID, weight) = (other.vocabularySize, other.dimension, other.paddingID, other.weight)
    }

    /// The same table (shared, not copied) with caches of its own: for inference.
    public func copy() -> Embedding { Embedding(sharing: self) }

    /// ids holds `batch·length` ids, row-major (sequence b is ids[b·length ..< (b+1)·length]);
    /// padding ids give zero vectors whatever their row holds.
    public func forward(_ ids: [Int32], batch: Int, length: Int) -> Tensor {
        precondition(ids.count == batch * length, "Embedding \(weight.name): \(ids.count) ids for shape (\(batch), \(length))")
        self.ids = ids
        let d = dimension
        outputShape = [batch, length, d]
        let table = weight.value
        return Tensor.uninitialized(outputShape) { y in
            table.withUnsafeBufferPointer { pt in
                for (i, id) in ids.enumerated() {
                    precondition(id >= 0 && Int(id) < vocabularySize,
                                 "Embedding \(weight.name): id \(id) outside 0..<\(vocabularySize)")
                    if id == paddingID {
                        (y + i * d).update(repeating: 0, count: d)
                    } else {
                        (y + i * d).update(from: pt.baseAddress! + Int(id) * d, count: d)
                    }
                }
            }
        }
    }

    /// Adds gradOutput (B, T, D) into the rows of the last forward's ids (except padding).
    public func backward(_ gradOutput: Tensor) {
        precondition(gradOutput.shape == outputShape, "Embedding \(weight.name): gradient \(gradOutput.shape) must be \(outputShape)")
        let d = dimension
        var touched = weight.touchedRows ?? []
        gradOutput.withUnsafeBufferPointer { pg in
            weight.gradient.withUnsafeMutableBufferPointer { pw in
                for (i, id) in ids.enumerated() where id != paddingID {
                    let row = Int(id)
                    addFloats(pw.baseAddress! + row * d, pg.baseAddress! + i * d, d)
                    touched.insert(row)
                }
            }
        }
        weight.touchedRows = touched
    }
}
