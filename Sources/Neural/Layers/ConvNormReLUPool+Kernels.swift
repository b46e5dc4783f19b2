// The fused normalised block's loops: pooling windows (extremes in, gradients out), per-chunk
// moments combined exactly, and per-channel constants the loops read through plain pointers.
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

/// Per pooled element, the window's maximum and minimum and their positions ky·p + kx (the first
/// wins ties, as in MaxPool2D), reused between calls.
final class WindowExtremes {
    private let values = ScratchBuffer()
    private var codes = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)
    private var capacity = 1
    private(set) var maximum: UnsafeMutablePointer<Float>
    private(set) var minimum: UnsafeMutablePointer<Float>
    private(set) var maximumCode: UnsafeMutablePointer<UInt8>
    private(set) var minimumCode: UnsafeMutablePointer<UInt8>

    init() {
        let v = values.reserve(2)
        (maximum, minimum, maximumCode, minimumCode) = (v, v + 1, codes, codes + 1)
    }

    deinit { codes.deallocate() }

    /// Room for `count` pooled elements; earlier pointers are invalid afterwards.
    func reserve(_ count: Int) {
        if count > capacity {
            codes.deallocate()
            codes = .allocate(capacity: 2 * count)
            capacity = count
        }
        let v = values.reserve(2 * capacity)
        (maximum, minimum, maximumCode, minimumCode) = (v, v + capacity, codes, codes + capacity)
    }
}

/// Non-overlapping p×p windows over (n, H, W, C) images, floor division of the output size.
struct PoolWindows {
    let height, width, channels, size: Int
    var pooledHeight: Int { height / size }
    var pooledWidth: Int { width / size }
    var pooledPerImage: Int { pooledHeight * pooledWidth * channels }

    /// Each window's extremes of `images` images at `src`, into `extremes` from pooled element `at`.
    func extremes(of src: UnsafePointer<Float>, images: Int, into extremes: WindowExtremes, at start: Int, parallel: Bool) {
        let p = size, c = channels, w = width, ho = pooledHeight, wo = pooledWidth
        let imageFloats = height * width * c
        let maxV = extremes.maximum + start, minV = extremes.minimum + start
        let maxK = extremes.maximumCode + start, minK = extremes.minimumCode + start
        parallelRanges(images * ho, minimumPerThread: 4, parallel: parallel) { range in
            for r in range {
                let image = src + (r / ho) * imageFloats, oy = r % ho
                for ox in 0..<wo {
                    let o = (r * wo + ox) * c
                    let first = image + (oy * p * w + ox * p) * c
                    if p == 2 {
                        let q1 = first + c, q2 = first + w * c, q3 = q2 + c
                        for ch in 0..<c {
                            var hi = first[ch], lo = hi, kHi: UInt8 = 0, kLo: UInt8 = 0
                            if q1[ch] > hi { hi = q1[ch]; kHi = 1 }
                            if q2[ch] > hi { hi = q2[ch]; kHi = 2 }
                            if q3[ch] > hi { hi = q3[ch]; kHi = 3 }
                            if q1[ch] < lo { lo = q1[ch]; kLo = 1 }
                            if q2[ch] < lo { lo = q2[ch]; kLo = 2 }
                            if q3[ch] < lo { lo = q3[ch]; kLo = 3 }
                            maxV[o + ch] = hi; minV[o + ch] = lo
                            maxK[o + ch] = kHi; minK[o + ch] = kLo
                        }
                        continue
                    }
                    for ch in 0..<c {
                        var hi = first[ch], lo = hi, kHi: UInt8 = 0, kLo: UInt8 = 0
                        for ky in 0..<p {
                            let row = first + ky * w * c + ch
                            for kx in 0..<p where ky + kx > 0 {
                                let v = row[kx * c], k = UInt8(ky * p + kx)
                                if v > hi { hi = v; kHi = k }
                                if v < lo { lo = v; kLo = k }
                            }
                        }
                        maxV[o + ch] = hi; minV[o + ch] = lo
                        maxK[o + ch] = kHi; minK[o + ch] = kLo
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
                    if p == 2 {
                        let q1 = first + c, q2 = first + w * c, q3 = q2 + c
                        for ch in 0..<c {
                            let v = scale[ch] * g[o + ch], k = codes[o + ch]
                            first[ch] += k == 0 ? v : 0
                            q1[ch] += k == 1 ? v : 0
                            q2[ch] += k == 2 ? v : 0
                            q3[ch] += k == 3 ? v : 0
                        }
                        continue
                    }
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

    /// The batch's mean and biased variance per channel, and its number of rows.
    func combined() -> (mean: [Double], variance: [Double], rows: Int) {
        let c = channels
        var mean = [Double](repeating: 0, count: c), m2 = [Double](repeating: 0, count: c)
        var n = 0
        for slot in 0..<slots where rows[slot] > 0 {
            let nb = rows[slot], mb = sums + slot * 2 * c, m2b = mb + c
            let total = n + nb
            for j in 0..<c {
                let delta = mb[j] - mean[j]
                mean[j] += delta * Double(nb) / Double(total)
                m2[j] += m2b[j] + delta * delta * Double(n) * Double(nb) / Double(total)
            }
            n = total
        }
        return (mean, m2.map { $0 / Double(max(1, n)) }, n)
    }
}
