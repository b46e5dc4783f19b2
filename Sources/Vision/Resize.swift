// Resampling RGBImage to a new size: a separable two-pass filter (columns, then rows) with
// weights computed once per call. When shrinking, the kernel widens by the scale factor, so
// every input pixel contributes (antialiasing, as Pillow does); enlarging interpolates.
// Cropping rectangles is in Crop.swift; the resample can read straight from a sub-rectangle.

/// The interpolation kernel.
public enum ResizeFilter: String, Sendable, Codable, CaseIterable {
    /// Triangle kernel: bilinear interpolation when enlarging, area-like averaging when shrinking.
    case bilinear
    /// Catmull-Rom cubic (a = −0.5): sharper, twice the taps; overshoot is clamped.
    case bicubic

    var support: Double { self == .bilinear ? 1 : 2 }

    @inline(__always)
    func weight(_ t: Double) -> Double {
        let x = abs(t)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// For one axis: which input samples feed each output sample, and with what weights.
struct ResampleWeights {
    /// Maximum number of input samples per output sample (the row stride of `weights`).
    let taps: Int
    /// First input index of each output (absolute: the crop offset is included).
    let starts: [Int]
    /// Number of inputs used by each output.
    let counts: [Int]
    /// (output, taps) weights, each row summing to 1.
    let weights: [Float]

    /// Weights mapping inputs offset..<offset+length onto `output` samples.
    init(offset: Int, length: Int, output: Int, filter: ResizeFilter) {
        precondition(length > 0 && output > 0, "cannot resample \(length) samples to \(output)")
        let scale = Double(length) / Double(output)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: output)
        var counts = [Int](repeating: 0, count: output)
        var weights = [Float](repeating: 0, count: output * taps)
        var row = [Double](repeating: 0, count: taps)
        for o in 0..<output {
            let center = (Double(o) + 0.5) * scale
            let low = max(0, Int((center - support + 0.5).rounded(.down)))
            let high = min(length, Int((center + support + 0.5).rounded(.down)))
            let count = min(max(high - low, 1), taps)
            var total = 0.0
            for k in 0..<count {
                row[k] = filter.weight((Double(low + k) - center + 0.5) / filterScale)
                total += row[k]
            }
            if total == 0 { row[0] = 1; total = 1 } // cannot happen for these kernels; keeps NaN out
            for k in 0..<count { weights[o * taps + k] = Float(row[k] / total) }
            starts[o] = offset + min(low, length - 1)
            counts[o] = count
        }
        self.taps = taps
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }
}

/// A rectangle of pixels: origin at the top-left corner, x to the right, y down.
public struct PixelRect: Equatable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)×\(height) at (\(x), \(y))" }
}

extension RGBImage {
    /// The whole image as a rectangle.
    public var bounds: PixelRect { PixelRect(x: 0, y: 0, width: width, height: height) }

    /// The image resampled to width×height (antialiased when shrinking).
    public func resized(width: Int, height: Int, filter: ResizeFilter = .bilinear) -> RGBImage {
        if width == self.width && height == self.height { return self }
        return resized(from: bounds, width: width, height: height, filter: filter)
    }

    /// The image scaled, keeping its aspect ratio, so its shorter side is `shortSide` pixels.
    public func resized(shortSide: Int, filter: ResizeFilter = .bilinear) -> RGBImage {
        precondition(shortSide > 0 && width > 0 && height > 0, "cannot scale \(width)×\(height) to short side \(shortSide)")
        let scale = Double(shortSide) / Double(min(width, height))
        let w = width <= height ? shortSide : max(1, Int((Double(width) * scale).rounded()))
        let h = height < width ? shortSide : max(1, Int((Double(height) * scale).rounded()))
        return resized(width: w, height: h, filter: filter)
    }

    /// The pixels of `rect` resampled to width×height in one pass, without cutting the
    /// rectangle out first: the building block of (random) resized crops.
    public func resized(from rect: PixelRect, width outWidth: Int, height outHeight: Int,
                        filter: ResizeFilter = .bilinear) -> RGBImage {
        precondition(rect.x >= 0 && rect.y >= 0 && rect.width > 0 && rect.height > 0
                     && rect.x + rect.width <= width && rect.y + rect.height <= height,
                     "crop \(rect) outside a \(width)×\(height) image")
        precondition(outWidth > 0 && outHeight > 0, "cannot resize to \(outWidth)×\(outHeight)")
        let horizontal = ResampleWeights(offset: rect.x, length: rect.width, output: outWidth, filter: filter)
        let vertical = ResampleWeights(offset: rect.y, length: rect.height, output: outHeight, filter: filter)
        // Pass 1, columns: each output row is a weighted sum of whole input rows (contiguous,
        // so the compiler vectorises it); (outHeight, rect.width, 3) floats.
        let rowLength = rect.width * 3
        var rows = [Float](repeating: 0, count: outHeight * rowLength)
        pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                vertical.withBuffers { starts, counts, weights in
                    for o in 0..<outHeight {
                        let acc = dst.baseAddress! + o * rowLength
                        let w = weights + o * vertical.taps
                        for k in 0..<counts[o] {
                            let wk = w[k]
                            let line = src.baseAddress! + ((starts[o] + k) * width + rect.x) * 3
                            for i in 0..<rowLength { acc[i] += wk * Float(line[i]) }
                        }
                    }
                }
            }
        }
        // Pass 2, rows: each output pixel gathers its taps along the row, then rounds to 8 bits.
        var result = [UInt8](repeating: 0, count: outHeight * outWidth * 3)
        rows.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                horizontal.withBuffers { starts, counts, weights in
                    for y in 0..<outHeight {
                        let line = src.baseAddress! + y * rowLength
                        let out = dst.baseAddress! + y * outWidth * 3
                        for o in 0..<outWidth {
                            var r: Float = 0.5, g: Float = 0.5, b: Float = 0.5
                            var p = line + (starts[o] - rect.x) * 3
                            let w = weights + o * horizontal.taps
                            for k in 0..<counts[o] {
                                let wk = w[k]
                                r += wk * p[0]
                                g += wk * p[1]
                                b += wk * p[2]
                                p += 3
                            }
                            out[3 * o] = UInt8(min(max(r, 0), 255))
                            out[3 * o + 1] = UInt8(min(max(g, 0), 255))
                            out[3 * o + 2] = UInt8(min(max(b, 0), 255))
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: result)
    }
}

extension ResampleWeights {
    @inline(__always)
    func withBuffers<R>(_ body: (UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Float>) -> R) -> R {
        starts.withUnsafeBufferPointer { s in
            counts.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in body(s.baseAddress!, c.baseAddress!, w.baseAddress!) }
            }
        }
    }
}
