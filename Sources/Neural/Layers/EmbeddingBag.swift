// A table whose lookups come in bags: each output row is the mean of the rows of its bag of
// ids (an empty bag gives a zero row). The text tower's hashed character n-grams use it: one
// bag per word. Backward adds each output row's gradient, shared evenly, into its bag's rows and
// records them in `touchedRows`, like `Embedding`.

/// Bags of ids (CSR: `offsets` of count + 1, bag r is ids[offsets[r] ..< offsets[r + 1]]) →
/// (count, D) means.
public final class EmbeddingBag: Module {
    public let rows: Int
    public let dimension: Int
    /// (rows, D), role `.embedding`, sparse gradient.
    public let weight: Parameter
    private var ids: [Int32] = []
    private var offsets: [Int32] = []

    /// Creates `name.weight` with N(0, std²) rows.
    public init(rows: Int, dimension: Int, std: Float, name: String, rng: inout SeededGenerator) {
        precondition(rows > 0 && dimension > 0, "EmbeddingBag \(name): sizes must be positive")
        self.rows = rows
        self.dimension = dimension
        weight = Parameter(name: name + ".weight", value: Tensor(randomNormal: [rows, dimension], std: std, using: &rng),
                           role: .embedding)
        weight.touchedRows = []
    }

    public var parameters: [Parameter] { [weight] }

    private init(sharing other: EmbeddingBag) {
        (rows, dimension, weight) = (other.rows, other.dimension, other.weight)
    }

    /// The same table (shared, not copied) with caches of its own: for inference.
    public func copy() -> EmbeddingBag { EmbeddingBag(sharing: self) }

    /// (offsets.count − 1, D): row r is the mean of the table rows ids[offsets[r] ..< offsets[r + 1]].
    public func forward(ids: [Int32], offsets: [Int32]) -> Tensor {
        precondition(!offsets.isEmpty && offsets[0] == 0 && Int(offsets.last!) == ids.count,
                     "EmbeddingBag \(weight.name): offsets must run from 0 to \(ids.count)")
        (self.ids, self.offsets) = (ids, offsets)
        let d = dimension, count = offsets.count - 1
        let table = weight.value
        return Tensor.uninitialized([count, d]) { y in
            table.withUnsafeBufferPointer { pt in
                for r in 0..<count {
                    let out = y + r * d
                    out.update(repeating: 0, count: d)
                    let (start, end) = (Int(offsets[r]), Int(offsets[r + 1]))
                    guard end > start else { continue }
                    let share = 1 / Float(end - start)
                    for k in start..<end {
                        let id = ids[k]
                        precondition(id >= 0 && Int(id) < rows, "EmbeddingBag \(weight.name): id \(id) outside 0..<\(rows)")
                        let src = pt.baseAddress! + Int(id) * d
                        for j in 0..<d { out[j] += share * src[j] }
                    }
                }
            }
        }
    }

    /// Adds gradOutput (count, D) into the rows of the last forward's bags, each shared evenly.
    public func backward(_ gradOutput: Tensor) {
        let d = dimension, count = offsets.count - 1
        precondition(gradOutput.shape == [count, d], "EmbeddingBag \(weight.name): gradient \(gradOutput.shape) must be \([count, d])")
        var touched = weight.touchedRows ?? []
        gradOutput.withUnsafeBufferPointer { pg in
            weight.gradient.withUnsafeMutableBufferPointer { pw in
                for r in 0..<count {
                    let (start, end) = (Int(offsets[r]), Int(offsets[r + 1]))
                    guard end > start else { continue }
                    let share = 1 / Float(end - start)
                    let src = pg.baseAddress! + r * d
                    for k in start..<end {
                        let row = Int(ids[k])
                        let dst = pw.baseAddress! + row * d
                        for j in 0..<d { dst[j] += share * src[j] }
                        touched.insert(row)
                    }
                }
            }
        }
        weight.touchedRows = touched
    }
}
