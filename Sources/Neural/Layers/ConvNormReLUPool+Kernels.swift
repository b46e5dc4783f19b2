// The fused normalised block's loops: pooling windows (winners in, gradients out), per-chunk
// moments combined exactly, and per-channel constants the loops read through plain pointers.
import CKernels
import Foundation

/// A few per-channel rows (mean, 1/σ, γ, …) in one allocation, reused between calls.
final class ChannelRows {
    private let buffer = ScratchBuffer()
    private let rows: Int
    private var channels = 0

    init(rows: Int) { self.rows = rows }

    /// Makes room for `channels` per row; earlier row pointers are invalid afterwards.
    func reserve(channels: Int) {
        self.channels = channels
        _ = buffer.reserve(rows * channels)
    }

    subscript(row: Int) -> UnsafeMutablePointer<Float> { buffer.pointer + row * channels }
}

/// Non-overlapping p×p windows over (n, H, W, C) images, floor division of the output size.
struct PoolWindows {
    let height, width, channels, size: Int
    var pooledHeight: Int { height / size }
    var pooledWidth: Int { width / size }
    var pooledPerImage: Int { pooledHeight * pooledWidth * channels }
    /// 2×2 windows that tile the image exactly: the CKernels case.
    var isEvenPairs: Bool { size == 2 && height % 2 == 0 && width % 2 == 0 }

    /// Each window's winner in `images` images at `src`: the first position of the largest
    /// sign·x (the maximum where the channel's sign is +1, the minimum where it is −1), its
    /// value x into `values` and its position ky·p + kx into `codes`.
    func winners(of src: UnsafePointer<Float>, images: Int, signs: UnsafePointer<Float>,
                 values: UnsafeMutablePointer<Float>, codes: UnsafeMutablePointer<UInt8>, parallel: Bool) {
        let p = size, c = channels, w = width, ho = pooledHeight, wo = pooledWidth
        let imageFloats = height * width * c
        parallelRanges(images * ho, minimumPerThread: 4, parallel: parallel) { range in
            if isEvenPairs {
                rk_pool2x2_winners(src, signs, -.infinity, ho, wo, c, range.lowerBound, range.upperBound, values, codes)
                return
            }
            for r in range {
                let image = src + (r / ho) * imageFloats, oy = r % ho
                for ox in 0..<wo {
                    let o = (r * wo + ox) * c
                    let first = image + (oy * p * w + ox * p) * c
                    let value = values + o, code = codes + o
                    for ch in 0..<c {
                        let s = signs[ch]
                        var m = s * first[ch], k: UInt8 = 0
                        for ky in 0..<p {
                            let row = first + ky * w * c + ch
                            for kx in 0..<p where ky + kx > 0 {
                                let v = s * row[kx * c]
                                if v > m { m = v; k = UInt8(ky * p + kx) }
                            }
                        }
                        value[ch] = s * m
                        code[ch] = k
                    }
                }
            }
        }
    }

    /// dst (n, H, W, C) += scale · g at each pooled element's winner.
    func scatter(_ g: UnsafePointer<Float>, scaledBy scale: UnsafePointer<Float>, codes: UnsafePointer<UInt8>,
                 images: Int, into dst: UnsafeMutablePointer<Float>, parallel: Bool) {
        let p = size, c = channels, w = width, ho = pooledHeight, wo = pooledWidth
        let imageFloats = height * width * c
        parallelRanges(images * ho, minimumPerThread: 4, parallel: parallel) { range in
            for r in range {
                let image = dst + (r / ho) * imageFloats, oy = r % ho
                for ox in 0..<wo {
                    let o = (r * wo + ox) * c
                    let first = image + (oy * p * w + ox * p) * c
                    for ch in 0..<c {
                        let k = Int(codes[o + ch])
                        first[((k / p) * w + k % p) * c + ch] += scale[ch] * g[o + ch]
                    }
                }
            }
        }
    }
}

/// Per-channel mean and sum of squared deviations of each chunk of a batch, two passes while the
/// chunk is in cache, combined in chunk order (Chan et al.) so the result does not depend on
/// which core ran which chunk and keeps its precision over millions of values.
final class ChunkMoments: @unchecked Sendable {
    private let channels: Int
    private let slots: Int
    /// Per slot (a chunk's first image): C means, then C sums of squared deviations.
    private let sums: UnsafeMutablePointer<Double>
    /// Per slot, its rows (0: no chunk starts there).
    private let rows: UnsafeMutablePointer<Int>

    init(slots: Int, channels: Int) {
        self.channels = channels
        self.slots = slots
        sums = .allocate(capacity: max(1, slots * 2 * channels))
        rows = .allocate(capacity: max(1, slots))
        rows.initialize(repeating: 0, count: max(1, slots))
    }

    deinit {
        sums.deallocate()
        rows.deallocate()
    }

    /// Records the moments of (rows, C) at `src` as slot `slot`; slots are written by one core
    /// each, and `parallel` lets this one spread over the cores.
    func record(_ src: UnsafePointer<Float>, rows count: Int, slot: Int, parallel: Bool) {
        let c = channels
        func sums(around shift: UnsafePointer<Float>?) -> ([Double], [Double]) {
            parallel ? channelSums(src, times: nil, around: shift, rows: count, channels: c)
                     : serialChannelSums(src, times: nil, around: shift, rows: count, channels: c)
        }
        let mean = self.sums + slot * 2 * c, m2 = mean + c
        let total = sums(around: nil).0
        var shift = [Float](repeating: 0, count: c)
        for j in 0..<c { mean[j] = total[j] / Double(count); shift[j] = Float(mean[j]) }
        let squares = shift.withUnsafeBufferPointer { sums(around: $0.baseAddress!).1 }
        for j in 0..<c {
            // Σ (x − m̃)² about the rounded mean m̃, moved to the exact mean.
            let d = mean[j] - Double(shift[j])
            m2[j] = max(0, squares[j] - Double(count) * d * d)
        }
        rows[slot] = count
    }

    /// The batch's moments per channel, merged in chunk order.
    func combined() -> ChannelMoments {
        let c = channels
        var result = ChannelMoments(channels: c)
        for slot in 0..<slots where rows[slot] > 0 {
            let mean = sums + slot * 2 * c
            result.merge(rows: rows[slot], mean: mean, squaredDeviations: mean + c)
        }
        return result
    }
}
