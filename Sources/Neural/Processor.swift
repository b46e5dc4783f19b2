// The processor this process runs on: its name and the instruction-set features the kernel
// reports (Linux's /proc/cpuinfo flags, which already leave out what the OS does not enable),
// and from them the best OpenBLAS x86-64 kernel family it can run. Benchmarks print it, and
// `BLASKernel` compares it with the kernel OpenBLAS chose.
import Foundation

public struct Processor: Sendable {
    public static let current = Processor(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")

    /// "AMD EPYC 9B45", "Intel(R) Xeon(R) Platinum 8488C", or "unknown".
    public let name: String
    /// Feature flags as the kernel names them: "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", …
    public let flags: Set<String>

    /// Parses the text of /proc/cpuinfo (the first processor's lines).
    public init(cpuinfo: String) {
        var name = "unknown", flags: Set<String> = []
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name", name == "unknown" { name = parts[1] }
            if parts[0] == "flags", flags.isEmpty { flags = Set(parts[1].split(separator: " ").map(String.init)) }
        }
        self.name = name
        self.flags = flags
    }

    /// The SIMD features the numeric code can use, best first, for reports.
    public var simdFeatures: [String] {
        ["amx_bf16", "amx_tile", "avx512_bf16", "avx512_vnni", "avx512bw", "avx512f", "avx_vnni", "avx2", "fma", "avx", "sse4_2"]
            .filter(flags.contains)
    }

    /// The best OpenBLAS kernel family for these features (OpenBLAS's DYNAMIC_ARCH names), or
    /// nil where nothing is known (not x86-64, no /proc/cpuinfo).
    public var bestBLASKernel: String? {
        guard !flags.isEmpty, flags.contains("sse2") else { return nil }
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        if avx512 && flags.contains("avx512_bf16") { return "Cooperlake" }
        if avx512 { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        if flags.contains("avx") { return "Sandybridge" }
        if flags.contains("sse4_2") { return "Nehalem" }
        return "Prescott"
    }
}
