// The one entry point for matrix products: every large product in retrieve goes through
// `gemm`, which hands it to OpenBLAS's cblas_sgemm. This is the only file that imports CBLAS.
import CBLAS

/// Whether an operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none
    case transposed

    fileprivate var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// C ← alpha·op(A)·op(B) + beta·C on row-major storage.
///
/// op(A) is m×k, op(B) is k×n, C is m×n; `lda`, `ldb`, `ldc` are the row strides of the
/// matrices as stored (so A stored k×m when transposed has lda ≥ m).
@inlinable
public func gemm(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    sgemmRowMajor(transA, transB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

@usableFromInline
func sgemmRowMajor(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
    precondition(lda >= max(1, transA == .none ? k : m), "gemm: lda \(lda) too small for m=\(m) k=\(k) \(transA)")
    precondition(ldb >= max(1, transB == .none ? n : k), "gemm: ldb \(ldb) too small for k=\(k) n=\(n) \(transB)")
    precondition(ldc >= max(1, n), "gemm: ldc \(ldc) too small for n=\(n)")
    if m == 0 || n == 0 { return }
    if k == 0 {
        // OpenBLAS leaves C alone only for beta == 1; make the k = 0 case well defined.
        for i in 0..<m {
            let row = c + i * ldc
            for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
        }
        return
    }
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The same product over `count` matrices laid out at fixed strides (batched attention, per-image
/// products): C_i ← alpha·op(A_i)·op(B_i) + beta·C_i.
public func gemmBatched(
    _ transA: Transpose, _ transB: Transpose,
    count: Int, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, strideA: Int,
    b: UnsafePointer<Float>, ldb: Int, strideB: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
) {
    for i in 0..<count {
        sgemmRowMajor(transA, transB, m: m, n: n, k: k, alpha: alpha,
                      a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                      beta: beta, c: c + i * strideC, ldc: ldc)
    }
}

/// The product of two 2-D tensors, op(a)·op(b), as a new (m, n) tensor.
public func matmul(_ a: Tensor, _ b: Tensor,
                   transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
    let (m, ka) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(ka == kb, "matmul: inner sizes differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    var out = Tensor(zeros: [m, n])
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { pc in
                gemm(transposeA ? .transposed : .none, transposeB ? .transposed : .none,
                     m: m, n: n, k: ka,
                     a: pa.baseAddress!, lda: max(1, a.shape[1]),
                     b: pb.baseAddress!, ldb: max(1, b.shape[1]),
                     c: pc.baseAddress!, ldc: max(1, n))
            }
        }
    }
    return out
}

/// How many threads OpenBLAS uses; set once at start-up (benchmarks compare 1 and 2).
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }
    public static var current: Int { Int(openblas_get_num_threads()) }
    /// The kernel OpenBLAS chose for this processor (e.g. "Haswell", "SkylakeX").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Runs `body` with OpenBLAS on one thread, then restores the previous count: for callers
    /// that run independent products on every core themselves (a convolution's chunks).
    public static func withOneThread<R>(_ body: () throws -> R) rethrows -> R {
        let previous = current
        if previous != 1 { set(1) }
        defer { if previous != 1 { set(previous) } }
        return try body()
    }
}

/// A direct cblas_sgemm call with no checks or wrapping: only the GEMM benchmark uses it, to
/// measure what the entry point above costs on top of OpenBLAS.
public func directSGEMMForBenchmark(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
    transposeB: Bool
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(transposeB ? k : n), 0, c, Int32(n))
}
