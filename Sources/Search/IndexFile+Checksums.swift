// The index rows' checksums: one CRC-32C per 1 MiB block of the row section, computed when
// writing and checked on every open by all cores at once (the CKernels CRC runs at several GB/s
// per core, so 1M × 256 rows check in a few hundredths of a second on top of paging them in).
// A damaged block is named with the rows it holds.
import CKernels
import Foundation
import Neural

enum RowBlocks {
    /// The CRC-32C of each `blockSize` block of `bytes` (the last one may be shorter).
    static func checksums(of bytes: UnsafeRawBufferPointer, blockSize: Int) -> [UInt32] {
        let blocks = (bytes.count + blockSize - 1) / blockSize
        var out = [UInt32](repeating: 0, count: blocks)
        out.withUnsafeMutableBufferPointer { sums in
            let sums = sums
            each(blocks) { k in
                sums[k] = crc(bytes, block: k, size: blockSize)
            }
        }
        return out
    }

    /// The first block whose CRC differs from `expected`, or nil when all agree.
    static func firstMismatch(in bytes: UnsafeRawBufferPointer, blockSize: Int, expected: UnsafeRawBufferPointer) -> Int? {
        let blocks = (bytes.count + blockSize - 1) / blockSize
        precondition(expected.count == blocks * 4, "RowBlocks: \(expected.count / 4) CRCs for \(blocks) blocks")
        let bad = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        bad.initialize(to: Int.max)
        defer { bad.deallocate() }
        let lock = NSLock()
        each(blocks) { k in
            let want = expected.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self).littleEndian
            if crc(bytes, block: k, size: blockSize) != want {
                lock.lock(); bad.pointee = min(bad.pointee, k); lock.unlock()
            }
        }
        return bad.pointee == Int.max ? nil : bad.pointee
    }

    private static func crc(_ bytes: UnsafeRawBufferPointer, block k: Int, size: Int) -> UInt32 {
        let start = k * size, count = min(size, bytes.count - start)
        return rk_crc32c(0, bytes.baseAddress! + start, count)
    }

    /// Runs `body(k)` for every block, the blocks shared out over `Threads.count` workers in
    /// contiguous runs (each worker reads one stretch of the file: the kernel reads ahead).
    private static func each(_ blocks: Int, _ body: (Int) -> Void) {
        let workers = max(1, min(Threads.count, blocks))
        if workers == 1 {
            for k in 0..<blocks { body(k) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for k in (blocks * w / workers)..<(blocks * (w + 1) / workers) { body(k) }
        }
    }
}
