// Times a Conv2D forward+backward against the bare GEMMs it performs on the same shapes, so the
// CLI can report how much im2col, col2im, packing and bias sums add on top of the arithmetic.
import Foundation
import Neural

/// A self-contained timing of one convolution shape; nothing is printed.
public enum Conv2DBenchmark {
    /// Best-of-`repeats` seconds for forward+backward of a Conv2D on a random NHWC batch, and for
    /// only its GEMMs (forward, dW, and dX columns unless `propagatesInputGradient` is false, as for
    /// a first layer) on buffers of the same shapes and chunking.
    /// Each measurement follows one untimed warm-up. Call `LargeAllocations.keepInProcess()` first,
    /// as training should: otherwise the conv's fresh output tensors pay page faults on every call
    /// that the GEMM-only loop (which reuses its buffers) does not.
    public static func run(batch: Int, height: Int, width: Int, cin: Int, cout: Int,
                           kernelSize: Int = 3, stride: Int = 1, padding: Int = 1,
                           repeats: Int = 1, columnBudgetBytes: Int? = nil, propagatesInputGradient: Bool = true,
                           seed: UInt64 = 1) -> (convSeconds: Double, gemmOnlySeconds: Double) {
        var rng = SeededGenerator(seed: seed)
        let conv = Conv2D(inChannels: cin, outChannels: cout, kernelSize: kernelSize, stride: stride,
                          padding: padding, name: "bench", rng: &rng)
        if let columnBudgetBytes { conv.columnBudgetBytes = columnBudgetBytes }
        conv.propagatesInputGradient = propagatesInputGradient
        let x = Tensor(randomNormal: [batch, height, width, cin], std: 1, using: &rng)
        let (ho, wo) = conv.outputSize(height: height, width: width)
        let dy = Tensor(randomNormal: [batch, ho, wo, cout], std: 1, using: &rng)
        let convSeconds = best(of: repeats) {
            conv.zeroGradients()
            let y = conv.forward(x)
            let dx = conv.backward(dy)
            precondition(y.count == dy.count && dx.count == (propagatesInputGradient ? x.count : 0))
        }
        let (chunk, rowsPerImage, K) = conv.chunking(batch: batch, height: height, width: width)
        let cols = [Float](repeating: 0.5, count: chunk * rowsPerImage * K)
        var dcols = cols
        let w = [Float](repeating: 0.01, count: cout * K)
        var dW = w
        var y = dy.data
        let gemmSeconds = best(of: repeats) {
            cols.withUnsafeBufferPointer { pc in
                w.withUnsafeBufferPointer { pw in
                    dy.withUnsafeBufferPointer { pdy in
                        var start = 0
                        while start < batch {
                            let n = min(chunk, batch - start), rows = n * rowsPerImage
                            let offset = start * rowsPerImage * cout
                            y.withUnsafeMutableBufferPointer { py in
                                gemm(.none, .transposed, m: rows, n: cout, k: K, a: pc.baseAddress!, lda: K,
                                     b: pw.baseAddress!, ldb: K, c: py.baseAddress! + offset, ldc: cout)
                            }
                            dW.withUnsafeMutableBufferPointer { pg in
                                gemm(.transposed, .none, m: cout, n: K, k: rows, a: pdy.baseAddress! + offset,
                                     lda: cout, b: pc.baseAddress!, ldb: K, beta: 1, c: pg.baseAddress!, ldc: K)
                            }
                            if propagatesInputGradient { dcols.withUnsafeMutableBufferPointer { pd in
                                gemm(.none, .none, m: rows, n: K, k: cout, a: pdy.baseAddress! + offset, lda: cout,
                                     b: pw.baseAddress!, ldb: K, c: pd.baseAddress!, ldc: K)
                            } }
                            start += n
                        }
                    }
                }
            }
        }
        return (convSeconds, gemmSeconds)
    }

    private static func best(of repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
}
