// The one entry point for matrix products: every large product in retrieve goes through
// `gemm`, which hands it to OpenBLAS's cblas_sgemm. This is the only file that imports CBLAS.
// OpenBLAS runs on one thread for the whole process and `gemm` splits large products over the
// cores itself: OpenBLAS's thread count is a process-wide setting whose value changes results'
// rounding, so owning the split keeps every product deterministic whatever other threads do.
import CBLAS
import Foundation

/// Whether an operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none
    case transposed

    fileprivate var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// C ← alpha·op(A)·op(B) + beta·C on row-major storage.
///
/// op(A) is m×k, op(B) is k×n, C is m×n; `lda`, `ldb`, `ldc` are the row strides of the
/// matrices as stored (so A stored k×m when transposed has lda ≥ m). A large product is split
/// into blocks of C's rows (or columns) run on `Threads.count` cores; callers that already
/// run one product per core pass `parallel: false`.
public func gemm(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    parallel: Bool = true
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
    let parts = parallel ? GEMMThreads.parts(m: m, n: n, k: k) : 1
    if parts == 1 {
        sgemmOnOneThread(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                         beta: beta, c: c, ldc: ldc)
        return
    }
    // Blocks of C's longer side, in multiples of 16 so each block keeps OpenBLAS's full-width kernels.
    let splitRows = m >= n
    let length = splitRows ? m : n
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let lo = GEMMThreads.boundary(part, of: parts, length: length)
        let hi = GEMMThreads.boundary(part + 1, of: parts, length: length)
        guard lo < hi else { return }
        if splitRows {
            sgemmOnOneThread(transA, transB, m: hi - lo, n: n, k: k, alpha: alpha,
                             a: transA == .none ? a + lo * lda : a + lo, lda: lda, b: b, ldb: ldb,
                             beta: beta, c: c + lo * ldc, ldc: ldc)
        } else {
            sgemmOnOneThread(transA, transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda,
                             b: transB == .none ? b + lo : b + lo * ldb, ldb: ldb,
                             beta: beta, c: c + lo, ldc: ldc)
        }
    }
}

private func sgemmOnOneThread(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    _ = openBLASOnOneThread
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Set once, before the first product: OpenBLAS computes on the calling thread from then on.
private let openBLASOnOneThread: Void = openblas_set_num_threads(1)

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
        gemm(transA, transB, m: m, n: n, k: k, alpha: alpha,
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

/// How `gemm` spreads one product over `Threads.count` cores.
public enum GEMMThreads {
    /// The kernel OpenBLAS chose for this processor (e.g. "Haswell", "Zen", "SkylakeX").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Products below this many multiply-adds run on one core: splitting costs more than it saves.
    static let minimumSplitWork = 1 << 20

    static func parts(m: Int, n: Int, k: Int) -> Int {
        let blocks = max(m, n) / 16
        guard Threads.count > 1, blocks >= 2, m * n * k >= minimumSplitWork else { return 1 }
        return min(Threads.count, blocks)
    }

    static func boundary(_ part: Int, of parts: Int, length: Int) -> Int {
        part == parts ? length : min(length, (length * part / parts + 8) / 16 * 16)
    }
}

/// A direct cblas_sgemm call with OpenBLAS's own threading on `threads` cores: only the GEMM
/// benchmark uses it, to measure the entry point above against OpenBLAS's best. It changes the
/// process-wide thread count for the call, so nothing else may run products meanwhile.
public func directSGEMMForBenchmark(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
    transposeB: Bool, threads: Int
) {
    _ = openBLASOnOneThread
    openblas_set_num_threads(Int32(threads))
    defer { openblas_set_num_threads(1) }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(transposeB ? k : n), 0, c, Int32(n))
}
