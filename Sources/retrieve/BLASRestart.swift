// Before the first product: when OpenBLAS chose a weaker kernel than this processor runs (a
// library older than the processor falls back to a generic one) and nobody asked for a kernel,
// the tool starts itself again with OPENBLAS_CORETYPE naming the right one. OpenBLAS reads that
// variable once, when it loads, so a new start is the only way to change its kernel.
import Foundation
import Neural

enum BLASRestart {
    /// Marks a process that was already restarted, so it never loops.
    static let marker = "RETRIEVE_BLAS_KERNEL_CHOSEN"

    static func ifNeeded() {
        let environment = ProcessInfo.processInfo.environment
        guard BLASKernel.requested == nil, environment[marker] == nil, let best = BLASKernel.better() else { return }
        setenv("OPENBLAS_CORETYPE", best, 1)
        setenv(marker, "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: go on with the kernel OpenBLAS chose.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
