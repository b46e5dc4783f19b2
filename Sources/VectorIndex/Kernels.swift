// The memory-bound inner loops of search: dot products of one query with many Float rows or
// 8-bit codes (the CKernels C loops), written into a score buffer that the top-k scan then
// reads. Large products (many queries × many rows) go through `gemm` instead.
import CKernels
import Foundation
import Neural

/// How a scan reads rows: Float rows as stored, or SQ8 codes with a per-query transform.
@usableFromInline
enum RowSource: @unchecked Sendable {
    case float(UnsafePointer<Float>)
    /// codes, per-dimension scale applied to the query elsewhere, so score = bias + Σ q'·code.
    case codes(UnsafePointer<UInt8>)
}

/// Scores of one (already transformed, for codes) query against rows [start, start+count):
/// written to `out`. `bias` is added to every score (the SQ8 offset term; 0 for Float rows).
/// Runs the CKernels loops (AVX2+FMA when the processor has them).
func scoreRows(_ source: RowSource, start: Int, count: Int, dimension d: Int,
               query: UnsafePointer<Float>, bias: Float, out: UnsafeMutablePointer<Float>) {
    switch source {
    case .float(let rows):
        rk_dot_rows(query, rows + start * d, count, d, bias, out)
    case .codes(let codes):
        rk_dot_codes(query, codes + start * d, count, d, bias, out)
    }
}

/// Splits 0..<count into `parts` contiguous ranges of near-equal size.
@inlinable
func splitRange(_ count: Int, parts: Int, part: Int) -> Range<Int> {
    let lo = count * part / parts, hi = count * (part + 1) / parts
    return lo..<hi
}

/// Runs `body(part)` for part in 0..<parts, in parallel when parts > 1.
@inlinable
func parallelFor(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 {
        body(0)
    } else {
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    }
}

/// Runs `body(slot, item)` for every item in 0..<items: `slots` workers (the caller among them)
/// take items in order from a shared counter, so a worker the scheduler starts late finds less
/// or nothing left instead of holding the caller up. Each slot runs on one thread at a time, so
/// per-slot state (heaps, scratch) needs no lock.
func parallelItems(_ items: Int, slots: Int, _ body: (Int, Int) -> Void) {
    if slots <= 1 || items <= 1 {
        for i in 0..<items { body(0, i) }
        return
    }
    let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    counter.initialize(to: 0)
    defer { counter.deallocate() }
    DispatchQueue.concurrentPerform(iterations: slots) { slot in
        while true {
            let i = rk_fetch_add(counter, 1)
            if i >= items { break }
            body(slot, i)
        }
    }
}

/// Per-call knobs shared by the flat and IVF indexes; tests shrink the blocks to hit edges.
public struct SearchParameters: Sendable, Equatable {
    /// Queries per GEMM block in batched search.
    public var queryBlock: Int = 1024
    /// Rows per GEMM tile in batched search (each thread's score tile is queryBlock × rowBlock
    /// Floats: 4 MB, cache-sized, at the defaults).
    public var rowBlock: Int = 1024
    /// Below this many queries, search scans rows with SIMD dot products instead of GEMM.
    public var smallQueryLimit: Int = 8
    /// Rows scored per scan chunk before the top-k pass (bounded scratch per thread).
    public var scanChunk: Int = 512
    /// Worker threads for scans and heap passes.
    public var threads: Int = defaultThreadCount

    public init() {}

    public static var defaultThreadCount: Int { max(1, min(8, Threads.count)) }
}
