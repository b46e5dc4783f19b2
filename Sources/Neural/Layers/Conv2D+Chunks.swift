// The convolution's chunk loop. Images are cut into chunks whose columns (plus a caller's
// per-image scratch) fit `columnBudgetBytes`; with several chunks each core takes every W-th
// chunk with its own scratch and a single-threaded GEMM, so im2col, the GEMM and a fused
// epilogue run back to back in one core's cache with no synchronisation between them. Partial
// weight gradients are summed in worker order, so results do not depend on thread timing.
import Foundation

/// One core's scratch: the column matrix, a chunk of caller data, its share of dW and db.
final class ConvWorkspace {
    let columns = ScratchBuffer()
    let chunk = ScratchBuffer()
    let weightGradient = ScratchBuffer()
    var biasSums: [Double] = []
}

/// The chunk a worker is on: images start..<start+count, the worker's scratch of
/// count·extraFloatsPerImage floats, and whether elementwise work may spread over the cores
/// (true only when a single worker runs).
struct ConvChunk {
    let start: Int
    let count: Int
    let scratch: UnsafeMutablePointer<Float>
    let parallel: Bool
}

extension Conv2D {
    /// Calls `body` once per chunk of `chunk` images; chunks run on all cores when there are
    /// several, each worker with its own workspace.
    func runChunks(batch: Int, chunk: Int, scratchFloats: Int, _ body: (ConvChunk, ConvWorkspace) -> Void) {
        let chunks = (batch + chunk - 1) / chunk
        let workers = max(1, min(Threads.count, chunks))
        while workspaces.count < workers { workspaces.append(ConvWorkspace()) }
        let spaces = workspaces
        func work(_ w: Int, parallel: Bool) {
            let scratch = spaces[w].chunk.reserve(max(1, scratchFloats))
            var i = w
            while i < chunks {
                let start = i * chunk
                body(ConvChunk(start: start, count: min(chunk, batch - start), scratch: scratch, parallel: parallel), spaces[w])
                i += workers
            }
        }
        if workers == 1 {
            work(0, parallel: true)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { work($0, parallel: false) }
    }

    /// The convolution chunk by chunk: `output(chunk)` says where its (n·Ho·Wo, Cout) result goes
    /// (the chunk's scratch holds n·`extraFloatsPerImage` floats); `finish(chunk, result)` then
    /// sees it, bias included, while it is still in cache — how fused layers apply ReLU and pooling.
    func forwardChunks(_ x: Tensor, _ g: ConvGeometry, extraFloatsPerImage: Int,
                       output: (ConvChunk) -> UnsafeMutablePointer<Float>,
                       finish: (ConvChunk, UnsafeMutablePointer<Float>) -> Void) {
        let batch = x.shape[0]
        let K = g.columnWidth, cout = outChannels, rowsPerImage = g.pixelsPerImage
        let chunk = imagesPerChunk(g, batch: batch, extraFloatsPerImage: extraFloatsPerImage)
        let packed = UnsafePointer(packedWeight.pointer)
        let b = bias?.value.data ?? []
        let winograd = usesWinograd(g)
        // Winograd's output transform adds a bias of Cout floats: zeros when there is none.
        let tileBias = winograd && b.isEmpty ? [Float](repeating: 0, count: cout) : b
        x.withUnsafeBufferPointer { px in
            b.withUnsafeBufferPointer { pb in
                runChunks(batch: batch, chunk: chunk, scratchFloats: chunk * extraFloatsPerImage) { c, space in
                    let yChunk = output(c), rows = c.count * rowsPerImage
                    if winograd {
                        let work = space.columns.reserve(chunk * winogradFloatsPerImage(g))
                        tileBias.withUnsafeBufferPointer { bias in
                            winogradForward(g, images: c.count, x: px.baseAddress! + c.start * g.imageSize,
                                            bias: bias.baseAddress!, y: yChunk, work: work, parallel: c.parallel)
                        }
                        finish(c, yChunk)
                        return
                    }
                    // The bias goes in first (GEMM with beta 1) while the chunk is in cache.
                    if pb.count > 0 {
                        for r in 0..<rows { copyFloats(yChunk + r * cout, pb.baseAddress!, cout) }
                    }
                    let image = px.baseAddress! + c.start * g.imageSize
                    var a = image
                    if !g.isPointwise {
                        let cols = space.columns.reserve(chunk * rowsPerImage * K)
                        im2col(g, images: c.count, x: image, cols: cols, parallel: c.parallel)
                        a = UnsafePointer(cols)
                    }
                    gemm(.none, .transposed, m: rows, n: cout, k: K, a: a, lda: K,
                         b: packed, ldb: K, beta: pb.count > 0 ? 1 : 0, c: yChunk, ldc: cout, parallel: c.parallel)
                    finish(c, yChunk)
                }
            }
        }
    }

    /// Backward chunk by chunk, with the chunks of `forwardChunks` for the same
    /// `extraFloatsPerImage`: `gradient(chunk)` supplies the chunk's output gradient
    /// (n·Ho·Wo, Cout), e.g. built in the chunk's scratch by a fused layer. Accumulates dW and db;
    /// returns dx, or an empty tensor when `propagatesInputGradient` is false.
    func backwardChunks(extraFloatsPerImage: Int, gradient: (ConvChunk) -> UnsafePointer<Float>) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2D \(weight.name): backward before forward") }
        let x = input
        let batch = x.shape[0], cout = outChannels, K = g.columnWidth, rowsPerImage = g.pixelsPerImage
        let chunk = imagesPerChunk(g, batch: batch, extraFloatsPerImage: extraFloatsPerImage)
        let packed = UnsafePointer(packedWeight.pointer)
        let hasBias = bias != nil, propagate = propagatesInputGradient
        let chunks = (batch + chunk - 1) / chunk
        while workspaces.count < min(chunks, Threads.count) { workspaces.append(ConvWorkspace()) }
        let winograd = usesWinograd(g)
        let weightFloats = winograd ? 16 * inChannels * cout : cout * K
        for space in workspaces {
            space.weightGradient.reserve(weightFloats).update(repeating: 0, count: weightFloats)
            space.biasSums = [Double](repeating: 0, count: hasBias ? cout : 0)
        }
        var dx = propagate ? Tensor.uninitialized(x.shape) { _ in } : Tensor(zeros: [0])
        x.withUnsafeBufferPointer { px in
            dx.withUnsafeMutableBufferPointer { pdx in
                let dxBase = pdx.baseAddress
                runChunks(batch: batch, chunk: chunk, scratchFloats: chunk * extraFloatsPerImage) { c, space in
                    let rows = c.count * rowsPerImage
                    let dyChunk = gradient(c)
                    if hasBias { addColumnSums(dyChunk, rows: rows, columns: cout, into: &space.biasSums) }
                    let image = px.baseAddress! + c.start * g.imageSize
                    if winograd {
                        let work = space.columns.reserve(chunk * winogradFloatsPerImage(g))
                        winogradBackward(g, images: c.count, x: image, dy: dyChunk, du: space.weightGradient.pointer,
                                         dx: propagate ? dxBase.map { $0 + c.start * g.imageSize } : nil,
                                         work: work, parallel: c.parallel)
                        return
                    }
                    var a = image
                    var cols: UnsafeMutablePointer<Float>?
                    if !g.isPointwise {
                        cols = space.columns.reserve(chunk * rowsPerImage * K)
                        im2col(g, images: c.count, x: image, cols: cols!, parallel: c.parallel)
                        a = UnsafePointer(cols!)
                    }
                    // dW (Cout, K) += dyᵀ (Cout, rows) · cols (rows, K)
                    gemm(.transposed, .none, m: cout, n: K, k: rows, a: dyChunk, lda: cout,
                         b: a, ldb: K, beta: 1, c: space.weightGradient.pointer, ldc: K, parallel: c.parallel)
                    if propagate, let dxBase {
                        let dxChunk = dxBase + c.start * g.imageSize
                        // dcols (rows, K) = dy (rows, Cout) · W (Cout, K), then folded onto dx.
                        gemm(.none, .none, m: rows, n: K, k: cout, a: dyChunk, lda: cout,
                             b: packed, ldb: K, c: cols ?? dxChunk, ldc: K, parallel: c.parallel)
                        if let cols { col2im(g, images: c.count, cols: cols, dx: dxChunk, parallel: c.parallel) }
                    }
                }
            }
        }
        // packedGradient ← Σ over workers, in worker order (deterministic).
        let dW = packedGradient.reserve(weightFloats)
        dW.update(from: workspaces[0].weightGradient.pointer, count: weightFloats)
        for space in workspaces.dropFirst() { addFloats(dW, space.weightGradient.pointer, weightFloats) }
        if winograd { unpackWinogradGradient() } else { unpackGradient() }
        if let bias {
            var sums = workspaces[0].biasSums
            for space in workspaces.dropFirst() { for j in 0..<cout { sums[j] += space.biasSums[j] } }
            bias.gradient.withUnsafeMutableBufferPointer { pg in
                for j in 0..<cout { pg[j] += Float(sums[j]) }
            }
        }
        return dx
    }
}
