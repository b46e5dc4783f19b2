// How many threads the numeric code spreads its work over: one setting for GEMM's split, the
// convolutions' chunks, batch norm, picture decoding, augmentation and the search scans.
import Foundation

public enum Threads {
    /// The machine's cores by default. Set it once at start-up (`retrieve bench --threads`,
    /// tests that compare 1 and 2): results are the same for a given count whichever threads
    /// call in, but changing it while work runs changes the split.
    nonisolated(unsafe) public static var count = ProcessInfo.processInfo.activeProcessorCount
}
