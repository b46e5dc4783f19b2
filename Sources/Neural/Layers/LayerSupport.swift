// Small pieces the layers share: uninitialised output tensors (big activations are written
// once, so zero-filling them first is wasted bandwidth), reusable scratch memory, a parallel
// loop over the machine's cores, PyTorch-like initialisation, and modules with saved buffers.
import Foundation

extension Tensor {
    /// A tensor whose every element `body` writes; skips the zero fill of `init(zeros:)`.
    static func uninitialized(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let n = shape.reduce(1, *)
        if n == 0 { return Tensor(zeros: shape) }
        let data = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            body(buffer.baseAddress!)
            count = n
        }
        return Tensor(shape: shape, data: data)
    }

    /// PyTorch's default for Linear and Conv weights and biases: U(−1/√fanIn, 1/√fanIn)
    /// (kaiming-uniform with a = √5 gives exactly this bound for the weights).
    static func pytorchDefault(_ shape: [Int], fanIn: Int, using rng: inout SeededGenerator) -> Tensor {
        let bound = 1 / Float(max(1, fanIn)).squareRoot()
        return Tensor(randomUniform: shape, in: -bound...bound, using: &rng)
    }
}

/// Scratch memory that grows on demand and is reused between calls, so a training step
/// allocates no large temporaries after the first.
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    deinit { pointer.deallocate() }

    /// At least `count` floats; contents are kept only when no growth happens.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            capacity = count
        }
        return pointer
    }
}

/// Splits 0..<count into one contiguous range per core and runs them concurrently; small jobs
/// (fewer than `minimumPerThread` items per core) and `parallel: false` (a caller that already
/// keeps every core busy) run inline on the caller's thread.
func parallelRanges(_ count: Int, minimumPerThread: Int = 1, parallel: Bool = true, _ body: (Range<Int>) -> Void) {
    let threads = parallel ? min(Threads.count, count / max(1, minimumPerThread)) : 1
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let lo = count * t / threads, hi = count * (t + 1) / threads
        if lo < hi { body(lo..<hi) }
    }
}

/// A module with saved state that is not trained: BatchNorm's running mean and variance.
///
/// Buffers are `Parameter`s so they carry a full dotted name (`image.bn1.running_mean`, the
/// PyTorch key) and load by assigning `value`; they are never listed in `parameters`, so no
/// optimizer touches them and their `gradient` stays unused.
public protocol BufferedModule: Module {
    var buffers: [Parameter] { get }
}

extension Module {
    /// This module's buffers when it has any: lets containers collect them without knowing types.
    public var savedBuffers: [Parameter] { (self as? any BufferedModule)?.buffers ?? [] }
}
