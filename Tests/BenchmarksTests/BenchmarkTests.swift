// The benchmarks return figures that mean something: both timings of a convolution, and the
// GEMM comparison on every standard shape.
import Testing
import Benchmarks

struct BenchmarkTests {
    @Test func convolutionBenchmarkReportsBothTimings() {
        let r = Conv2DBenchmark.run(batch: 2, height: 8, width: 8, cin: 3, cout: 4)
        #expect(r.convSeconds > 0 && r.gemmOnlySeconds > 0)
    }
}
