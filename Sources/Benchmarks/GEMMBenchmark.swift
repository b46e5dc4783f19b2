// Measures the GEMM entry point beside a direct cblas_sgemm call on the same operands, run
// interleaved in one process so machine noise hits both alike. The CLI prints the figures.
import Foundation
import Neural

/// One shape's figures: GFLOP/s through `gemm` and through cblas_sgemm directly.
public struct GEMMBenchmarkRow: Codable, Sendable {
    public let label: String
    public let m: Int, n: Int, k: Int
    public let oursGflops: Double
    public let cblasGflops: Double
    public var ratio: Double { oursGflops / cblasGflops }

    enum CodingKeys: String, CodingKey {
        case label, m, n, k
        case oursGflops = "ours_gflops"
        case cblasGflops = "cblas_gflops"
    }
}

public enum GEMMBenchmark {
    /// A product to time: op(A) m×k times op(B) k×n.
    public struct Shape: Sendable {
        public let label: String
        public let m: Int, n: Int, k: Int
        public let transposeB: Bool
        public init(_ label: String, m: Int, n: Int, k: Int, transposeB: Bool = false) {
            self.label = label; self.m = m; self.n = n; self.k = k; self.transposeB = transposeB
        }
    }

    /// The products the reference model really runs (im2col convolutions of the 4-block CNN on
    /// 64×64 input, the projections, the similarity matrix) at `batch`, then squares 256…2048.
    public static func standardShapes(batch: Int) -> [Shape] {
        var shapes: [Shape] = [
            Shape("conv1 im2col b\(batch)", m: batch * 64 * 64, n: 32, k: 27),
            Shape("conv2 im2col b\(batch)", m: batch * 32 * 32, n: 64, k: 288),
            Shape("conv3 im2col b\(batch)", m: batch * 16 * 16, n: 128, k: 576),
            Shape("conv4 im2col b\(batch)", m: batch * 8 * 8, n: 256, k: 1152),
            Shape("image proj b\(batch)", m: batch, n: 128, k: 256, transposeB: true),
            Shape("text keys b\(batch)×16", m: batch * 16, n: 128, k: 128, transposeB: true),
            Shape("similarity b\(batch)", m: batch, n: batch, k: 128, transposeB: true),
        ]
        for s in [256, 512, 1024, 2048] { shapes.append(Shape("square \(s)", m: s, n: s, k: s)) }
        return shapes
    }

    /// Times both paths on `shape`, alternating them, and keeps each one's best of `repeats`.
    public static func measure(_ shape: Shape, minimumSeconds: Double = 0.25, repeats: Int = 5) -> GEMMBenchmarkRow {
        var rng = SeededGenerator(seed: 1)
        let a = Tensor(randomUniform: [shape.m * shape.k], in: -1...1, using: &rng)
        let b = Tensor(randomUniform: [shape.k * shape.n], in: -1...1, using: &rng)
        var c = Tensor(zeros: [shape.m * shape.n])
        let flops = 2.0 * Double(shape.m) * Double(shape.n) * Double(shape.k)
        var best = (ours: 0.0, direct: 0.0)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let A = pa.baseAddress!, B = pb.baseAddress!, C = pc.baseAddress!
                    let ours = {
                        gemm(.none, shape.transposeB ? .transposed : .none, m: shape.m, n: shape.n, k: shape.k,
                             a: A, lda: shape.k, b: B, ldb: shape.transposeB ? shape.k : shape.n,
                             c: C, ldc: shape.n)
                    }
                    let direct = {
                        directSGEMMForBenchmark(m: shape.m, n: shape.n, k: shape.k, a: A, b: B, c: C,
                                                transposeB: shape.transposeB, threads: Threads.count)
                    }
                    ours(); direct()  // warm caches and OpenBLAS's threads
                    let iterations = max(1, Int(minimumSeconds / max(1e-6, seconds(direct))))
                    for _ in 0..<repeats {
                        best.ours = max(best.ours, flops / seconds(iterations: iterations, ours) / 1e9)
                        best.direct = max(best.direct, flops / seconds(iterations: iterations, direct) / 1e9)
                    }
                }
            }
        }
        return GEMMBenchmarkRow(label: shape.label, m: shape.m, n: shape.n, k: shape.k,
                                oursGflops: best.ours, cblasGflops: best.direct)
    }

    /// Seconds per call of `body`, averaged over `iterations` calls.
    public static func seconds(iterations: Int = 1, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations)
    }
}
