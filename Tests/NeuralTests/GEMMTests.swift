import Foundation
import Testing
@testable import Neural

/// Per-slot results written by concurrent workers.
private final class ConcurrentResults: @unchecked Sendable {
    private var values: [[Float]]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Float]) { lock.lock(); values[i] = v; lock.unlock() }
    func value(_ i: Int) -> [Float] { lock.lock(); defer { lock.unlock() }; return values[i] }
}

/// Naive triple loop in Double: the reference every GEMM shape is checked against.
private func naiveGEMM(_ ta: Bool, _ tb: Bool, m: Int, n: Int, k: Int, alpha: Float,
                       a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = ta ? a[p * lda + i] : a[i * lda + p]
                let bv = tb ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(av) * Double(bv)
            }
            out[i * ldc + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * ldc + j]))
        }
    }
    return out
}

struct GEMMTests {
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 1, 129), (1, 129, 7), (129, 7, 1),
                                             (13, 17, 19), (64, 33, 5), (3, 2, 300),
                                             // Large enough to be split over the cores: by rows, by columns.
                                             (301, 70, 60), (50, 517, 45)]

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matchesNaiveReference(transposes: (Bool, Bool)) {
        var rng = SeededGenerator(seed: 7)
        let (ta, tb) = transposes
        for (m, n, k) in Self.shapes {
            // Padded leading dimensions so strides other than the width are exercised.
            let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1
            let a = Tensor(randomNormal: [(ta ? k : m) * lda], std: 1, using: &rng).data
            let b = Tensor(randomNormal: [(tb ? n : k) * ldb], std: 1, using: &rng).data
            let c0 = Tensor(randomNormal: [m * ldc], std: 1, using: &rng).data
            let expected = naiveGEMM(ta, tb, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda,
                                     b: b, ldb: ldb, beta: 0.3, c: c0, ldc: ldc)
            var c = c0
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        gemm(ta ? .transposed : .none, tb ? .transposed : .none, m: m, n: n, k: k, alpha: 0.7,
                             a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: 0.3,
                             c: pc.baseAddress!, ldc: ldc)
                    }
                }
            }
            for i in 0..<c.count {
                #expect(abs(c[i] - expected[i]) <= 1e-4 * Float(k).squareRoot() + 1e-5,
                        "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb) at \(i)")
            }
        }
    }

    /// OpenBLAS's rounding depends on its thread count, which is process-wide: products and
    /// convolutions run by other threads at the same time must not change a result (an app may
    /// embed on several threads; resume is asserted bit-exact).
    @Test func resultsDoNotDependOnConcurrentWork() {
        var rng = SeededGenerator(seed: 3)
        let (m, n, k) = (257, 192, 160)
        let a = Tensor(randomNormal: [m, k], std: 1, using: &rng), b = Tensor(randomNormal: [k, n], std: 1, using: &rng)
        let images = Tensor(randomNormal: [8, 16, 16, 8], std: 1, using: &rng)
        let alone = matmul(a, b).data
        let results = ConcurrentResults(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            if i % 2 == 0 {
                var convRNG = SeededGenerator(seed: UInt64(i))
                let conv = Conv2D(inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1, name: "c", rng: &convRNG)
                conv.columnBudgetBytes = 16 << 10  // many chunks, one per core at a time
                for _ in 0..<20 { _ = conv.forward(images) }
            } else {
                for _ in 0..<20 { results.set(i, matmul(a, b).data) }
            }
        }
        for i in stride(from: 1, to: 8, by: 2) {
            #expect(results.value(i) == alone, "product \(i), run beside convolutions, differs from the one run alone")
        }
    }

    @Test func zeroInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4]
        let empty: [Float] = [0]
        empty.withUnsafeBufferPointer { p in
            c.withUnsafeMutableBufferPointer { pc in
                gemm(.none, .none, m: 2, n: 2, k: 0, a: p.baseAddress!, lda: 1, b: p.baseAddress!, ldb: 2,
                     beta: 0.5, c: pc.baseAddress!, ldc: 2)
            }
        }
        #expect(c == [0.5, 1, 1.5, 2])
    }

    @Test func batchedMatchesLoopOfProducts() {
        var rng = SeededGenerator(seed: 3)
        let count = 3, m = 5, n = 4, k = 6
        let a = Tensor(randomNormal: [count, m, k], std: 1, using: &rng)
        let b = Tensor(randomNormal: [count, n, k], std: 1, using: &rng)
        var c = Tensor(zeros: [count, m, n])
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemmBatched(.none, .transposed, count: count, m: m, n: n, k: k,
                                a: pa.baseAddress!, lda: k, strideA: m * k,
                                b: pb.baseAddress!, ldb: k, strideB: n * k,
                                c: pc.baseAddress!, ldc: n, strideC: m * n)
                }
            }
        }
        for s in 0..<count {
            let sa = Tensor(shape: [m, k], data: Array(a.data[(s * m * k)..<((s + 1) * m * k)]))
            let sb = Tensor(shape: [n, k], data: Array(b.data[(s * n * k)..<((s + 1) * n * k)]))
            let expected = matmul(sa, sb, transposeB: true)
            for i in 0..<(m * n) { #expect(abs(c.data[s * m * n + i] - expected.data[i]) < 1e-5) }
        }
    }

    @Test func generatorIsReproducibleAndRestorable() {
        var g1 = SeededGenerator(seed: 42)
        _ = g1.next()
        let saved = g1.stateWords
        let a = (0..<5).map { _ in g1.next() }
        var g2 = SeededGenerator(state: saved)
        let b = (0..<5).map { _ in g2.next() }
        #expect(a == b)
        var g3 = SeededGenerator(seed: 43)
        #expect(g3.next() != SeededGenerator(seed: 42).stateWords[0])
        let p = g3.permutation(of: 10)
        #expect(p.sorted() == Array(0..<10))
    }
}
