// Keeps large freed blocks inside the process. glibc hands every block over 32 MB back to the
// kernel on free and maps it afresh on the next allocation, so each big activation of every
// step pays first-touch page faults (measured: ~110 ms per 134 MB tensor vs ~13 ms reused);
// and a thread's own arena cannot hold a block over 64 MB at all, so there is one arena.
#if canImport(Glibc)
import Glibc

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// Process-wide allocator setting for training and benchmarks; call once at start-up (the CLI's
/// job: a library should not change the process's allocator behind its back).
public enum LargeAllocations {
    /// Serves blocks up to `limitBytes` from the heap and keeps up to that much freed memory, so
    /// a training step reuses the previous step's activation memory without page faults.
    /// Returns false where the setting is unavailable (non-glibc platforms).
    @discardableResult
    public static func keepInProcess(limitBytes: Int = 1 << 30) -> Bool {
        #if canImport(Glibc)
        let value = Int32(clamping: limitBytes)
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1, arenaMax: Int32 = -8  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_ARENA_MAX
        // One arena: a worker thread's arena grows only to 64 MB, beyond which glibc maps every
        // block afresh whatever the threshold (training runs on such threads).
        return glibcMallopt(mmapThreshold, value) == 1 && glibcMallopt(trimThreshold, value) == 1
            && glibcMallopt(arenaMax, 1) == 1
        #else
        return false
        #endif
    }
}
