// Whether OpenBLAS runs the best kernel this processor allows. A library older than the
// processor falls back to a generic kernel without a word (Debian's 0.3.21 runs its SSE3
// "Prescott" kernel on a Sapphire Rapids Xeon, at a fifth of the speed); this compares the
// kernel it chose with the processor's features, and names the kernel to ask for instead.
import Foundation

public enum BLASKernel {
    /// OpenBLAS's x86-64 kernel families, weakest first. Zen uses Haswell's kernels.
    static let families = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge",
                           "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"]

    /// The kernel OpenBLAS runs ("Haswell", "SkylakeX", …).
    public static var current: String { GEMMThreads.coreName }

    /// `OPENBLAS_CORETYPE` when the environment sets it: OpenBLAS then runs what it names.
    public static var requested: String? { ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] }

    /// The kernel to run instead of `current`, when the processor supports a stronger one than
    /// OpenBLAS chose by itself; nil when it already runs the best (or nothing is known).
    public static func better(than current: String = current, on processor: Processor = .current) -> String? {
        guard let best = processor.bestBLASKernel,
              let have = rank(current), let want = rank(best), want > have else { return nil }
        return best
    }

    /// "OpenBLAS kernel Cooperlake (the best for this processor)", or what fell back and why.
    public static func summary(on processor: Processor = .current) -> String {
        var text = "OpenBLAS kernel \(current)"
        if ProcessInfo.processInfo.environment["RETRIEVE_BLAS_KERNEL_CHOSEN"] != nil {
            text += " (chosen for this processor: OpenBLAS fell back to a weaker one by itself)"
        } else if let requested {
            text += " (OPENBLAS_CORETYPE=\(requested))"
        }
        if let best = better(on: processor) {
            text += "; this processor supports \(best)" + (requested == nil ? "" : ": unset OPENBLAS_CORETYPE to use it")
        } else if processor.bestBLASKernel != nil {
            text += " (the best for this processor)"
        }
        return text
    }

    private static func rank(_ name: String) -> Int? {
        guard let index = families.firstIndex(where: { $0.lowercased() == name.lowercased() }) else { return nil }
        return name.lowercased() == "zen" ? families.firstIndex(of: "Haswell") : index
    }
}
