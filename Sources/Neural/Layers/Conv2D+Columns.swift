// The data movement around a convolution's GEMMs: im2col copies every output pixel's receptive
// field into one row of a column matrix, col2im adds column rows back into an image gradient.
// Both move whole runs of C-contiguous channels (NHWC) and split the work over the cores unless
// the caller already runs one chunk per core.

/// The sizes of one convolution, fixed by its layer and the input's height and width.
struct ConvGeometry {
    let height, width, inChannels, kernel, stride, padding: Int
    let outHeight, outWidth: Int

    init(height: Int, width: Int, inChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.height = height
        self.width = width
        self.inChannels = inChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        outHeight = (height + 2 * padding - kernel) / stride + 1
        outWidth = (width + 2 * padding - kernel) / stride + 1
    }

    /// Floats per column row: (ky, kx, ci), ci fastest.
    var columnWidth: Int { kernel * kernel * inChannels }
    var imageSize: Int { height * width * inChannels }
    var pixelsPerImage: Int { outHeight * outWidth }
    /// A 1×1 stride-1 unpadded convolution reads the image itself as its column matrix.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// The kx range whose input column lies inside the image, for output column ox.
    @inline(__always)
    func validKx(_ ox: Int) -> (ix0: Int, lo: Int, hi: Int) {
        let ix0 = ox * stride - padding
        return (ix0, max(0, -ix0), min(kernel, width - ix0))
    }
}

/// cols (images·Ho·Wo, k·k·Cin) ← the receptive fields of `images` NHWC images starting at `x`.
func im2col(_ g: ConvGeometry, images: Int, x: UnsafePointer<Float>, cols: UnsafeMutablePointer<Float>,
            parallel: Bool = true) {
    let k = g.kernel, cin = g.inChannels, K = g.columnWidth, run = k * cin
    parallelRanges(images * g.outHeight, minimumPerThread: 2, parallel: parallel) { range in
        for r in range {
            let b = r / g.outHeight, oy = r % g.outHeight
            let image = x + b * g.imageSize
            var dst = cols + r * g.outWidth * K
            for ox in 0..<g.outWidth {
                let (ix0, lo, hi) = g.validKx(ox)
                for ky in 0..<k {
                    let iy = oy * g.stride - g.padding + ky
                    let d = dst + ky * run
                    if iy < 0 || iy >= g.height || lo >= hi {
                        d.update(repeating: 0, count: run)
                        continue
                    }
                    if lo > 0 { d.update(repeating: 0, count: lo * cin) }
                    copyFloats(d + lo * cin, image + (iy * g.width + ix0 + lo) * cin, (hi - lo) * cin)
                    if hi < k { (d + hi * cin).update(repeating: 0, count: (k - hi) * cin) }
                }
                dst += K
            }
        }
    }
}

/// dx ← Σ of the column-matrix rows `cols` folded back onto `images` NHWC images (overwrites dx).
///
/// Gathers per input row, so each thread owns whole rows of dx and no two threads write the same
/// float.
func col2im(_ g: ConvGeometry, images: Int, cols: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
            parallel: Bool = true) {
    let k = g.kernel, cin = g.inChannels, K = g.columnWidth, rowFloats = g.width * cin
    parallelRanges(images * g.height, minimumPerThread: 2, parallel: parallel) { range in
        for r in range {
            let b = r / g.height, iy = r % g.height
            let dst = dx + r * rowFloats
            dst.update(repeating: 0, count: rowFloats)
            for ky in 0..<k {
                let t = iy + g.padding - ky
                if t < 0 || t % g.stride != 0 { continue }
                let oy = t / g.stride
                if oy >= g.outHeight { continue }
                let srcRow = cols + (b * g.outHeight + oy) * g.outWidth * K + ky * k * cin
                for ox in 0..<g.outWidth {
                    let (ix0, lo, hi) = g.validKx(ox)
                    if lo >= hi { continue }
                    addFloats(dst + (ix0 + lo) * cin, srcRow + ox * K + lo * cin, (hi - lo) * cin)
                }
            }
        }
    }
}

/// Copies short runs 4 floats at a time (a call to memmove costs more than 12 floats do).
@inline(__always)
func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    if n > 16 {
        dst.update(from: src, count: n)
        return
    }
    var i = 0
    while i + 4 <= n {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<Float>.self),
                                                    as: SIMD4<Float>.self)
        i += 4
    }
    while i < n { dst[i] = src[i]; i += 1 }
}

/// dst[i] += src[i]; explicit SIMD because the compiler cannot rule out aliasing and stays scalar.
@inline(__always)
func addFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let d = UnsafeMutableRawPointer(dst + i)
        let sum = d.loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        d.storeBytes(of: sum, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { dst[i] += src[i]; i += 1 }
}
