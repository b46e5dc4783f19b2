// The processor's features decide the kernel OpenBLAS should run: a fallback (a library older
// than the processor) is recognised and named, a kernel as good as the processor allows is not
// second-guessed, and unknown machines are left alone.
import Testing
@testable import Neural

struct BLASKernelTests {
    static let sapphireRapids = Processor(cpuinfo: """
        model name\t: Intel(R) Xeon(R) Platinum 8488C
        flags\t\t: fpu sse2 sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 amx_tile amx_bf16
        """)
    static let haswell = Processor(cpuinfo: "model name : Intel(R) Xeon(R) CPU E5-2680 v3\nflags : sse2 sse4_2 avx avx2 fma\n")

    @Test func theProcessorsNameAndFeaturesAreRead() {
        #expect(Self.sapphireRapids.name == "Intel(R) Xeon(R) Platinum 8488C")
        #expect(Self.sapphireRapids.simdFeatures.prefix(3) == ["amx_bf16", "amx_tile", "avx512_bf16"])
        #expect(Self.sapphireRapids.bestBLASKernel == "Cooperlake")
        #expect(Self.haswell.bestBLASKernel == "Haswell")
        #expect(Processor(cpuinfo: "").bestBLASKernel == nil)
    }

    @Test func aFallbackIsNamedAndTheBestKernelIsLeftAlone() {
        #expect(BLASKernel.better(than: "Prescott", on: Self.sapphireRapids) == "Cooperlake")
        #expect(BLASKernel.better(than: "Zen", on: Self.sapphireRapids) == "Cooperlake", "Zen runs Haswell's AVX2 kernels")
        #expect(BLASKernel.better(than: "SkylakeX", on: Self.sapphireRapids) == "Cooperlake")
        #expect(BLASKernel.better(than: "Cooperlake", on: Self.sapphireRapids) == nil)
        #expect(BLASKernel.better(than: "Zen", on: Self.haswell) == nil)
        #expect(BLASKernel.better(than: "Prescott", on: Processor(cpuinfo: "")) == nil)
        #expect(BLASKernel.better(than: "SomethingNew", on: Self.sapphireRapids) == nil, "a kernel we do not know is not replaced")
    }
}
