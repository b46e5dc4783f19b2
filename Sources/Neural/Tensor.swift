// A dense Float32 array with a shape: the one concrete tensor type of retrieve.
// Row-major (last index fastest). Images are NHWC, matrices (rows, columns).
// Value semantics over a Swift array; hot loops reach the storage through unsafe buffers.
// The storage's length always equals the shape's product: it changes only with the shape.

/// A shape plus contiguous Float storage; cheap to pass (copy-on-write), no hidden copy
/// as long as one owner mutates it.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    /// The values, row-major. Read-only: elements change through the subscript or
    /// `withUnsafeMutableBufferPointer`, whole arrays through `replaceData`, so no array of the
    /// wrong length can reach GEMM or cblas under this shape.
    public var data: [Float] { storage }
    @usableFromInline var storage: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) values, data has \(data.count)")
        self.shape = shape
        self.storage = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, repeating: 0)
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Values drawn from N(0, std²): the usual start for weights.
    public init(randomNormal shape: [Int], std: Float, using rng: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = rng.nextNormal() * std }
        self.init(shape: shape, data: values)
    }

    /// Values drawn uniformly from [low, high).
    public init(randomUniform shape: [Int], in range: ClosedRange<Float>, using rng: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = range.lowerBound + (range.upperBound - range.lowerBound) * rng.nextUnitFloat() }
        self.init(shape: shape, data: values)
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The size of the first dimension (the batch, for activations).
    public var rows: Int { shape.first ?? 1 }
    /// Elements per first-dimension slice.
    public var columns: Int { rows == 0 ? 0 : count / rows }

    public subscript(index: Int) -> Float {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// Replaces every value; `values` must hold exactly `count` of them.
    public mutating func replaceData(_ values: [Float]) {
        precondition(values.count == storage.count, "Tensor\(shape) holds \(storage.count) values, got \(values.count)")
        storage = values
    }

    /// Sets every element to zero without reallocating.
    public mutating func zero() {
        storage.withUnsafeMutableBufferPointer { p in
            p.baseAddress?.update(repeating: 0, count: p.count)
        }
    }

    /// True when no element is NaN or ±Inf.
    public var isFinite: Bool {
        data.withUnsafeBufferPointer { p in
            var ok = true
            for v in p where !v.isFinite { ok = false; break }
            return ok
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 8 ? ", …" : "")]"
    }
}
