// Conv2D → BatchNorm2D → ReLU → non-overlapping max pooling as one layer: the image tower's
// block when it normalises. Run apart, the three elementwise layers read and write the
// full-resolution activation about ten times a step and cost more than the convolution itself.
//
// Batch statistics need the whole batch before anything can be normalised, but normalisation is
// a per-channel affine map whose factor γ/σ has the sign of γ, so a window's maximum after it is
// the window's maximum before it when γ ≥ 0 and its minimum when γ < 0. Each chunk of the
// convolution's output is therefore reduced, while in cache, to its moments and its windows'
// winners; once the batch's moments are known only the pooled winners are normalised.
// Backward needs x̂ everywhere (the batch mean couples every position), so training keeps the
// convolution's output; evaluation does not. The math is that of the separate layers, except
// that a tie made by rounding (or by γ = 0) sends the gradient to the raw extreme, not the first.
// With a `statisticsGroup`, the batch is the group's: its members' moments are merged before
// normalising and its gradient sums added before the mean terms (BatchStatisticsGroup.swift).

import CKernels

/// y (B, Ho/p, Wo/p, C) = maxpool_p(relu(batchnorm(conv(x)))); with `poolSize` 1, no pooling.
public final class ConvNormReLUPool: Layer, BufferedModule {
    /// Owns `name.weight` (built without a bias: β is the bias).
    public let conv: Conv2D
    /// Owns γ, β and the running statistics, under BatchNorm2D's names.
    public let norm: BatchNorm2D
    /// Pooling window and stride; 1 means no pooling.
    public let poolSize: Int
    /// The processes that forward the other parts of this batch (synchronised batch norm); nil
    /// normalises by this process's rows alone. Evaluation copies have none: they use the
    /// running statistics.
    public var statisticsGroup: (any BatchStatisticsGroup)?

    /// The convolution's output, kept in training for backward (x̂ is rebuilt from it).
    private var preActivation = Tensor(zeros: [0])
    private var output = Tensor(zeros: [0])
    private var lastWasTraining = true
    /// Rows mean, 1/σ, γ, β, sign(γ) of the last forward.
    private let statistics = ChannelRows(rows: 5)
    /// Per pooled element: x̂ of the window's winner (its raw value until normalised) and its
    /// position ky·p + kx in the window.
    private let winnerNormalized = ScratchBuffer()
    private var winners: [UInt8] = []
    private let routed = ScratchBuffer()

    public init(conv: Conv2D, norm: BatchNorm2D, poolSize: Int) {
        precondition(poolSize >= 1 && poolSize <= 15, "ConvNormReLUPool \(conv.weight.name): pool size \(poolSize) must be 1…15")
        precondition(norm.channels == conv.outChannels,
                     "ConvNormReLUPool \(conv.weight.name): \(norm.channels) normalised channels for \(conv.outChannels) outputs")
        self.conv = conv
        self.norm = norm
        self.poolSize = poolSize
    }

    public var parameters: [Parameter] { conv.parameters + norm.parameters }
    public var buffers: [Parameter] { norm.buffers }
    public func setTraining(_ training: Bool) { norm.setTraining(training) }

    public func evaluationCopy() -> any Layer {
        ConvNormReLUPool(conv: conv.copy(), norm: norm.evaluationCopy() as! BatchNorm2D, poolSize: poolSize)
    }

    public func forward(_ x: Tensor) -> Tensor {
        let g = conv.prepareForward(x)
        let batch = x.shape[0], c = conv.outChannels, p = poolSize
        let windows = PoolWindows(height: g.outHeight, width: g.outWidth, channels: c, size: p)
        precondition(windows.pooledHeight > 0 && windows.pooledWidth > 0,
                     "ConvNormReLUPool \(conv.weight.name): \(g.outHeight)×\(g.outWidth) output is smaller than the \(p)×\(p) pool")
        let training = norm.isTraining, rowsPerImage = g.pixelsPerImage, perImage = rowsPerImage * c
        precondition(!training || batch * rowsPerImage > 1,
                     "ConvNormReLUPool \(conv.weight.name): training needs more than one value per channel, input \(x.shape)")
        lastWasTraining = training
        let pooledPerImage = windows.pooledPerImage, count = batch * pooledPerImage
        statistics.reserve(channels: c)
        let mean = statistics[0], inverseStd = statistics[1], gamma = statistics[2], beta = statistics[3]
        let signs = statistics[4]
        for j in 0..<c {
            gamma[j] = norm.weight.value[j]
            beta[j] = norm.bias.value[j]
            signs[j] = gamma[j] >= 0 ? 1 : -1
        }
        let winnerValues = winnerNormalized.reserve(count)
        if winners.count != count { winners = [UInt8](repeating: 0, count: count) }
        let moments = ChunkMoments(slots: batch, channels: c)
        // Kept from step to step when the shape holds: at 64 MB and more, glibc serves a worker
        // thread's allocation by mmap, and every step would fault its pages in afresh (≈ 25 ms).
        let keptShape = training ? [batch, g.outHeight, g.outWidth, c] : [0]
        if preActivation.shape != keptShape { preActivation = Tensor.uninitialized(keptShape) { _ in } }
        preActivation.withUnsafeMutableBufferPointer { kept in
            winners.withUnsafeMutableBufferPointer { pw in
                let keep = kept.baseAddress, codes = pw.baseAddress!
                conv.forwardChunks(x, g, extraFloatsPerImage: perImage,
                                   output: { training ? keep! + $0.start * perImage : $0.scratch }) { chunk, result in
                    let offset = chunk.start * pooledPerImage
                    windows.winners(of: result, images: chunk.count, signs: signs, values: winnerValues + offset,
                                    codes: codes + offset, parallel: chunk.parallel)
                    if training { moments.record(result, rows: chunk.count * rowsPerImage, slot: chunk.start, parallel: chunk.parallel) }
                }
            }
        }
        if training {
            let local = moments.combined()
            let batchMoments = statisticsGroup.map { local.merged(over: $0) } ?? local
            let m = batchMoments.mean, variance = batchMoments.variance
            for j in 0..<c {
                mean[j] = Float(m[j])
                inverseStd[j] = 1 / (Float(variance[j]) + norm.epsilon).squareRoot()
            }
            norm.updateRunningStatistics(mean: m.map { Float($0) }, variance: variance.map { Float($0) }, rows: batchMoments.rows)
        } else {
            for j in 0..<c {
                mean[j] = norm.runningMean.value[j]
                inverseStd[j] = 1 / (norm.runningVariance.value[j] + norm.epsilon).squareRoot()
            }
        }
        output = normalizeWinners(shape: [batch, windows.pooledHeight, windows.pooledWidth, c])
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == output.shape, "ConvNormReLUPool \(conv.weight.name): gradient \(dy.shape) does not match output \(output.shape)")
        guard let g = conv.geometry else { preconditionFailure("ConvNormReLUPool \(conv.weight.name): backward before forward") }
        let c = conv.outChannels, training = lastWasTraining
        let windows = PoolWindows(height: g.outHeight, width: g.outWidth, channels: c, size: poolSize)
        let count = dy.count, perImage = g.pixelsPerImage * c, pooledPerImage = windows.pooledPerImage
        // What ReLU lets through to each winner; its sums, plain and times x̂, per channel are
        // β's and γ's gradients and, over the batch, the two mean terms of dx.
        let passed = routed.reserve(count)
        output.withUnsafeBufferPointer { py in
            dy.withUnsafeBufferPointer { pdy in
                parallelRanges(count, minimumPerThread: 1 << 14) { range in
                    for i in range { passed[i] = py[i] > 0 ? pdy[i] : 0 }
                }
            }
        }
        let (sumDy, sumDyXhat) = channelSums(passed, times: winnerNormalized.pointer, rows: count / c, channels: c)
        for j in 0..<c {
            norm.bias.gradient[j] += Float(sumDy[j])
            norm.weight.gradient[j] += Float(sumDyXhat[j])
        }
        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)) in training, γ/σ · dy in evaluation; the
        // means are over the group's batch (γ's and β's gradients above stay this process's
        // part: the trainer sums them over the group with every other gradient).
        var n = Double(dy.shape[0] * g.pixelsPerImage), batchSumDy = sumDy, batchSumDyXhat = sumDyXhat
        if training, let group = statisticsGroup {
            let all = group.allGather([n] + sumDy + sumDyXhat)
            (n, batchSumDy, batchSumDyXhat) = (0, [Double](repeating: 0, count: c), [Double](repeating: 0, count: c))
            for base in stride(from: 0, to: all.count, by: 1 + 2 * c) {
                n += all[base]
                for j in 0..<c {
                    batchSumDy[j] += all[base + 1 + j]
                    batchSumDyXhat[j] += all[base + 1 + c + j]
                }
            }
        }
        // dx = slope·(x − mean) + offset, plus scale · the routed gradient at each winner.
        let terms = ChannelRows(rows: 3)
        terms.reserve(channels: c)
        let scale = terms[0], slope = terms[1], offset = terms[2]
        let mean = statistics[0], inverseStd = statistics[1], gamma = statistics[2]
        for j in 0..<c {
            scale[j] = gamma[j] * inverseStd[j]
            slope[j] = training ? -scale[j] * inverseStd[j] * Float(batchSumDyXhat[j] / n) : 0
            offset[j] = training ? -scale[j] * Float(batchSumDy[j] / n) : 0
        }
        return preActivation.withUnsafeBufferPointer { px in
            winners.withUnsafeBufferPointer { pw in
                conv.backwardChunks(extraFloatsPerImage: perImage) { chunk in
                    let rows = chunk.count * g.pixelsPerImage, d = chunk.scratch
                    let offsetPooled = chunk.start * pooledPerImage, codes = pw.baseAddress! + offsetPooled
                    let x = training ? px.baseAddress! + chunk.start * perImage : nil
                    if windows.isEvenPairs {
                        var routing = rk_unpool2x2(gradient: passed + offsetPooled, output: nil, scale: scale, codes: codes,
                                                   input: x, slope: slope, centre: mean, offset: offset,
                                                   pooled_height: windows.pooledHeight, pooled_width: windows.pooledWidth,
                                                   channels: c)
                        parallelRanges(chunk.count * windows.pooledHeight, minimumPerThread: 4, parallel: chunk.parallel) { range in
                            rk_unpool2x2_gradient(&routing, range.lowerBound, range.upperBound, d)
                        }
                        return UnsafePointer(d)
                    }
                    if let x {
                        parallelRanges(rows, minimumPerThread: 1024, parallel: chunk.parallel) { range in
                            for r in range {
                                let xr = x + r * c, dr = d + r * c
                                for j in 0..<c { dr[j] = slope[j] * (xr[j] - mean[j]) + offset[j] }
                            }
                        }
                    } else {
                        d.update(repeating: 0, count: rows * c)
                    }
                    windows.scatter(passed + offsetPooled, scaledBy: scale, codes: codes,
                                    images: chunk.count, into: d, parallel: chunk.parallel)
                    return UnsafePointer(d)
                }
            }
        }
    }

    /// x̂ and y = relu(γ·x̂ + β) of each window's winner, x̂ kept for backward.
    private func normalizeWinners(shape: [Int]) -> Tensor {
        let c = conv.outChannels, count = shape.reduce(1, *)
        let xhat = winnerNormalized.pointer
        let mean = statistics[0], inverseStd = statistics[1], gamma = statistics[2], beta = statistics[3]
        return Tensor.uninitialized(shape) { y in
            parallelRanges(count / c, minimumPerThread: 1024) { range in
                for r in range {
                    let o = r * c
                    for j in 0..<c {
                        let h = (xhat[o + j] - mean[j]) * inverseStd[j]
                        xhat[o + j] = h
                        y[o + j] = max(gamma[j] * h + beta[j], 0)
                    }
                }
            }
        }
    }
}
