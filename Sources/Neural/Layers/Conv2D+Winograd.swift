// Winograd's minimal filtering F(2×2, 3×3) for 3×3, stride-1, padding-1 convolutions (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 2×2 output tile is
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of its 4×4 input tile d, so a chunk's convolution becomes 16 GEMMs,
// one per point ξ of the transformed tile: M_ξ (tiles, Cout) = V_ξ (tiles, Cin) · U_ξ (Cin, Cout).
// That is 16 multiply-adds per tile and channel pair where im2col's GEMM does 36 (2.25× fewer).
// Backward is the same products transposed: dU_ξ += V_ξᵀ·dM_ξ and dV_ξ = dM_ξ·U_ξᵀ, with dM the
// output gradient through the transposed output transform and dx the transposed input transform
// of dV, added where neighbouring tiles overlap. The transforms are adds and subtracts over runs
// of NHWC channels, eight lanes at a time; edge tiles read zeros outside the image and drop
// outputs past it, so any height and width work.

import CKernels

/// How a convolution computes its products.
public enum ConvolutionAlgorithm: Sendable {
    /// Winograd where the geometry allows it and the input has enough channels to repay the
    /// transforms (16 or more), im2col elsewhere: the first layer of an RGB tower stays on im2col.
    case automatic
    /// im2col and one GEMM per chunk, for every geometry.
    case columns
    /// Winograd F(2×2, 3×3) wherever the geometry allows it (3×3, stride 1, padding 1).
    case winograd
}

/// A convolution's output cut into 2×2 tiles, each read from a 4×4 input tile.
struct WinogradTiles {
    let tilesY, tilesX: Int
    var perImage: Int { tilesY * tilesX }

    init(_ g: ConvGeometry) {
        tilesY = (g.outHeight + 1) / 2
        tilesX = (g.outWidth + 1) / 2
    }
}

extension Conv2D {
    /// Whether this geometry runs as Winograd tiles rather than im2col.
    func usesWinograd(_ g: ConvGeometry) -> Bool {
        guard g.kernel == 3, g.stride == 1, g.padding == 1 else { return false }
        switch algorithm {
        case .columns: return false
        case .winograd: return true
        case .automatic: return g.inChannels >= 16
        }
    }

    /// Floats of one image's V and M (both [16][tiles][channels]) in the chunk's work buffer.
    func winogradFloatsPerImage(_ g: ConvGeometry) -> Int {
        16 * WinogradTiles(g).perImage * (g.inChannels + outChannels)
    }

    /// U [16][Cin][Cout] ← G g Gᵀ of every (out, in) 3×3 kernel.
    func packWinogradWeights() {
        let cin = inChannels, cout = outChannels
        let u = packedWeight.reserve(16 * cin * cout)
        weight.value.withUnsafeBufferPointer { pw in
            for co in 0..<cout {
                for ci in 0..<cin {
                    let g = pw.baseAddress! + (co * cin + ci) * 9
                    let r0 = filterTransform(g[0], g[1], g[2])  // G along kx, kernel row by row
                    let r1 = filterTransform(g[3], g[4], g[5])
                    let r2 = filterTransform(g[6], g[7], g[8])
                    func store(_ j: Int, _ t: (Float, Float, Float, Float)) {
                        u[((0 * 4 + j) * cin + ci) * cout + co] = t.0
                        u[((1 * 4 + j) * cin + ci) * cout + co] = t.1
                        u[((2 * 4 + j) * cin + ci) * cout + co] = t.2
                        u[((3 * 4 + j) * cin + ci) * cout + co] = t.3
                    }
                    store(0, filterTransform(r0.0, r1.0, r2.0))
                    store(1, filterTransform(r0.1, r1.1, r2.1))
                    store(2, filterTransform(r0.2, r1.2, r2.2))
                    store(3, filterTransform(r0.3, r1.3, r2.3))
                }
            }
        }
    }

    /// weight.gradient (Cout, Cin, 3, 3) += Gᵀ dU G of packedGradient's dU [16][Cin][Cout].
    func unpackWinogradGradient() {
        let cin = inChannels, cout = outChannels
        let du = UnsafePointer(packedGradient.pointer)
        func point(_ i: Int, _ j: Int, _ ci: Int, _ co: Int) -> Float { du[((i * 4 + j) * cin + ci) * cout + co] }
        weight.gradient.withUnsafeMutableBufferPointer { pg in
            for co in 0..<cout {
                for ci in 0..<cin {
                    // Gᵀ along the rows i of each column j, then along j for each kernel row.
                    func column(_ j: Int) -> (Float, Float, Float) {
                        filterTransformTransposed(point(0, j, ci, co), point(1, j, ci, co), point(2, j, ci, co), point(3, j, ci, co))
                    }
                    let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
                    let g = pg.baseAddress! + (co * cin + ci) * 9
                    func add(_ ky: Int, _ t: (Float, Float, Float)) {
                        g[ky * 3] += t.0
                        g[ky * 3 + 1] += t.1
                        g[ky * 3 + 2] += t.2
                    }
                    add(0, filterTransformTransposed(c0.0, c1.0, c2.0, c3.0))
                    add(1, filterTransformTransposed(c0.1, c1.1, c2.1, c3.1))
                    add(2, filterTransformTransposed(c0.2, c1.2, c2.2, c3.2))
                }
            }
        }
    }

    /// y (images·Ho·Wo, Cout) ← the convolution of `images` NHWC images at x, plus bias (Cout floats);
    /// `work` holds winogradFloatsPerImage floats per image.
    func winogradForward(_ g: ConvGeometry, images: Int, x: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         y: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>, parallel: Bool) {
        let tiles = WinogradTiles(g), count = images * tiles.perImage
        let cin = inChannels, cout = outChannels
        let v = work, m = work + 16 * count * cin, u = UnsafePointer(packedWeight.pointer)
        let shape = tiles.shape(g, outChannels: cout, images: images)
        winogradInput(shape, images: images, x: x, v: v, parallel: parallel)
        for point in 0..<16 {
            gemm(.none, .none, m: count, n: cout, k: cin, a: v + point * count * cin, lda: cin,
                 b: u + point * cin * cout, ldb: cout, c: m + point * count * cout, ldc: cout, parallel: parallel)
        }
        winogradOutput(shape, images: images, m: m, bias: bias, y: y, parallel: parallel)
    }

    /// dU [16][Cin][Cout] += the chunk's share from dy (images·Ho·Wo, Cout); when dx is given,
    /// dx ← the chunk's input gradient (overwritten).
    func winogradBackward(_ g: ConvGeometry, images: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                          du: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                          work: UnsafeMutablePointer<Float>, parallel: Bool) {
        let tiles = WinogradTiles(g), count = images * tiles.perImage
        let cin = inChannels, cout = outChannels
        let v = work, dm = work + 16 * count * cin, u = UnsafePointer(packedWeight.pointer)
        let shape = tiles.shape(g, outChannels: cout, images: images)
        winogradInput(shape, images: images, x: x, v: v, parallel: parallel)
        winogradOutputGradient(shape, images: images, dy: dy, dm: dm, parallel: parallel)
        for point in 0..<16 {
            gemm(.transposed, .none, m: cin, n: cout, k: count, a: v + point * count * cin, lda: cin,
                 b: dm + point * count * cout, ldb: cout, beta: 1, c: du + point * cin * cout, ldc: cout,
                 parallel: parallel)
        }
        guard let dx else { return }
        for point in 0..<16 {
            gemm(.none, .transposed, m: count, n: cin, k: cout, a: dm + point * count * cout, lda: cout,
                 b: u + point * cin * cout, ldb: cout, c: v + point * count * cin, ldc: cin, parallel: parallel)
        }
        winogradInputGradient(shape, images: images, dv: v, dx: dx, parallel: parallel)
    }
}

// MARK: - The tile transforms (CKernels), split over the cores unless a chunk runs per core

extension WinogradTiles {
    func shape(_ g: ConvGeometry, outChannels: Int, images: Int) -> rk_winograd_shape {
        rk_winograd_shape(height: g.height, width: g.width, out_height: g.outHeight, out_width: g.outWidth,
                          in_channels: g.inChannels, out_channels: outChannels,
                          tiles_y: tilesY, tiles_x: tilesX, tiles: images * perImage)
    }
}

private func winogradInput(_ shape: rk_winograd_shape, images: Int, x: UnsafePointer<Float>,
                           v: UnsafeMutablePointer<Float>, parallel: Bool) {
    var s = shape
    parallelRanges(images * shape.tiles_y, minimumPerThread: 2, parallel: parallel) { rows in
        rk_winograd_input(&s, x, rows.lowerBound, rows.upperBound, v)
    }
}

private func winogradOutput(_ shape: rk_winograd_shape, images: Int, m: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, parallel: Bool) {
    var s = shape
    parallelRanges(images * shape.tiles_y, minimumPerThread: 2, parallel: parallel) { rows in
        rk_winograd_output(&s, m, bias, rows.lowerBound, rows.upperBound, y)
    }
}

private func winogradOutputGradient(_ shape: rk_winograd_shape, images: Int, dy: UnsafePointer<Float>,
                                    dm: UnsafeMutablePointer<Float>, parallel: Bool) {
    var s = shape
    parallelRanges(images * shape.tiles_y, minimumPerThread: 2, parallel: parallel) { rows in
        rk_winograd_output_gradient(&s, dy, rows.lowerBound, rows.upperBound, dm)
    }
}

/// Images split over the cores: tiles overlap, so no two threads may write one image.
private func winogradInputGradient(_ shape: rk_winograd_shape, images: Int, dv: UnsafePointer<Float>,
                                   dx: UnsafeMutablePointer<Float>, parallel: Bool) {
    var s = shape
    parallelRanges(images, parallel: parallel) { range in
        rk_winograd_input_gradient(&s, dv, range.lowerBound, range.upperBound, dx)
    }
}

/// G along one axis of a 3×3 kernel: (g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2).
@inline(__always) private func filterTransform(_ g0: Float, _ g1: Float, _ g2: Float) -> (Float, Float, Float, Float) {
    (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
}

/// Gᵀ along one axis, the transpose of `filterTransform`.
@inline(__always) private func filterTransformTransposed(_ h0: Float, _ h1: Float, _ h2: Float, _ h3: Float) -> (Float, Float, Float) {
    (h0 + 0.5 * (h1 + h2), 0.5 * (h1 - h2), 0.5 * (h1 + h2) + h3)
}
