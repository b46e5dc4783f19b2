// Batch normalisation over the channels of NHWC activations, as PyTorch's BatchNorm2d: training
// normalises with the batch's mean and biased variance and folds them into running statistics
// (momentum 0.1, unbiased variance); evaluation normalises with the running statistics.
import CKernels
import Foundation

/// y = γ·(x − μ)/√(σ² + ε) + β per channel of x (…, C); μ, σ² from the batch or running buffers.
public final class BatchNorm2D: Layer, BufferedModule {
    public let channels: Int
    public let momentum: Float
    public let epsilon: Float
    /// γ (C), initially ones.
    public let weight: Parameter
    /// β (C), initially zeros.
    public let bias: Parameter
    /// Buffers `name.running_mean` (zeros) and `name.running_var` (ones), PyTorch's keys.
    public let runningMean: Parameter
    public let runningVariance: Parameter
    public private(set) var isTraining = true

    private var normalized = Tensor(zeros: [0])  // x̂, same shape as the input
    private var inverseStd = [Float]()           // 1/√(σ² + ε) used by the last forward (C)
    private var lastWasTraining = true

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, name: String) {
        precondition(channels > 0, "BatchNorm2D \(name): channels must be positive")
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Parameter(name: name + ".weight", value: Tensor(shape: [channels], repeating: 1), role: .normalization)
        bias = Parameter(name: name + ".bias", value: Tensor(zeros: [channels]), role: .bias)
        runningMean = Parameter(name: name + ".running_mean", value: Tensor(zeros: [channels]), role: .normalization)
        runningVariance = Parameter(name: name + ".running_var", value: Tensor(shape: [channels], repeating: 1),
                                    role: .normalization)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Parameter] { [runningMean, runningVariance] }

    /// In evaluation mode: it normalises with the running statistics and never updates them.
    private init(sharing other: BatchNorm2D) {
        (channels, momentum, epsilon) = (other.channels, other.momentum, other.epsilon)
        (weight, bias, runningMean, runningVariance) = (other.weight, other.bias, other.runningMean, other.runningVariance)
        isTraining = false
    }

    public func evaluationCopy() -> any Layer { BatchNorm2D(sharing: self) }
    public func setTraining(_ training: Bool) { isTraining = training }

    public func forward(_ x: Tensor) -> Tensor {
        let c = channels
        precondition(x.rank >= 2 && x.shape.last == c, "BatchNorm2D \(weight.name): input \(x.shape) must end in \(c) channels")
        let rows = x.count / c
        lastWasTraining = isTraining
        var mean = [Float](repeating: 0, count: c)
        if isTraining {
            precondition(rows > 1, "BatchNorm2D \(weight.name): training needs more than one value per channel, input \(x.shape)")
            let (m, v) = channelMeanAndVariance(x, rows: rows)
            mean = m
            inverseStd = v.map { 1 / ($0 + epsilon).squareRoot() }
            updateRunningStatistics(mean: m, variance: v, rows: rows)
        } else {
            mean = runningMean.value.data
            inverseStd = runningVariance.value.data.map { 1 / ($0 + epsilon).squareRoot() }
        }
        let gamma = weight.value, beta = bias.value, inv = inverseStd
        var y = Tensor.uninitialized(x.shape) { _ in }
        normalized = Tensor.uninitialized(x.shape) { xhat in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    mean.withUnsafeBufferPointer { pm in
                        inv.withUnsafeBufferPointer { pi in
                            gamma.withUnsafeBufferPointer { pg in
                                beta.withUnsafeBufferPointer { pb in
                                    parallelRanges(rows, minimumPerThread: 4096) { range in
                                        for r in range {
                                            let xr = px.baseAddress! + r * c, hr = xhat + r * c, yr = py.baseAddress! + r * c
                                            for j in 0..<c {
                                                let h = (xr[j] - pm[j]) * pi[j]
                                                hr[j] = h
                                                yr[j] = pg[j] * h + pb[j]
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let c = channels, rows = normalized.count / c
        precondition(dy.shape == normalized.shape, "BatchNorm2D \(weight.name): gradient \(dy.shape) does not match input \(normalized.shape)")
        // Σ dy and Σ dy·x̂ per channel: the β and γ gradients, and the terms of dx.
        let xhat = normalized
        let (sumDy, sumDyXhat) = dy.withUnsafeBufferPointer { pdy in
            xhat.withUnsafeBufferPointer { ph in
                channelSums(pdy.baseAddress!, times: ph.baseAddress!, rows: rows, channels: c)
            }
        }
        for j in 0..<c {
            bias.gradient[j] += Float(sumDy[j])
            weight.gradient[j] += Float(sumDyXhat[j])
        }
        // Training: dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)); evaluation: dx = γ/σ · dy.
        let n = Float(rows), training = lastWasTraining
        let scale = (0..<c).map { weight.value[$0] * inverseStd[$0] }
        let meanDy = sumDy.map { training ? Float($0) / n : 0 }
        let meanDyXhat = sumDyXhat.map { training ? Float($0) / n : 0 }
        return Tensor.uninitialized(dy.shape) { dx in
            dy.withUnsafeBufferPointer { pdy in
                xhat.withUnsafeBufferPointer { ph in
                    scale.withUnsafeBufferPointer { ps in
                        meanDy.withUnsafeBufferPointer { pm in
                            meanDyXhat.withUnsafeBufferPointer { pmh in
                                parallelRanges(rows, minimumPerThread: 4096) { range in
                                    for r in range {
                                        let g = pdy.baseAddress! + r * c, h = ph.baseAddress! + r * c, d = dx + r * c
                                        for j in 0..<c { d[j] = ps[j] * (g[j] - pm[j] - h[j] * pmh[j]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Folds a batch's mean and biased variance over `rows` values into the running statistics,
    /// the variance made unbiased as PyTorch does.
    func updateRunningStatistics(mean m: [Float], variance v: [Float], rows: Int) {
        let unbiased = Float(rows) / Float(rows - 1)
        for j in 0..<channels {
            runningMean.value[j] = (1 - momentum) * runningMean.value[j] + momentum * m[j]
            runningVariance.value[j] = (1 - momentum) * runningVariance.value[j] + momentum * v[j] * unbiased
        }
    }

    /// Per-channel mean and biased variance of x (rows, C), two passes.
    private func channelMeanAndVariance(_ x: Tensor, rows: Int) -> ([Float], [Float]) {
        let c = channels
        return x.withUnsafeBufferPointer { px in
            let sum = channelSums(px.baseAddress!, times: nil, rows: rows, channels: c).0
            let mean = sum.map { Float($0 / Double(rows)) }
            let squares = mean.withUnsafeBufferPointer { pm in
                channelSums(px.baseAddress!, times: nil, around: pm.baseAddress!, rows: rows, channels: c).1
            }
            return (mean, squares.map { Float($0 / Double(rows)) })
        }
    }
}

/// Per channel of a (rows, C): Σ a and Σ a·b (b given), or Σ (a − shift)² (shift given) as the
/// second total. Float sums over blocks of 256 rows, Double across blocks, so millions of rows
/// keep their precision.
func channelSums(_ a: UnsafePointer<Float>, times b: UnsafePointer<Float>?, around shift: UnsafePointer<Float>? = nil,
                 rows: Int, channels c: Int) -> ([Double], [Double]) {
    let threads = rows >= 16384 ? Threads.count : 1
    if threads <= 1 { return serialChannelSums(a, times: b, around: shift, rows: rows, channels: c) }
    var parts = [([Double], [Double])](repeating: ([], []), count: threads)
    parts.withUnsafeMutableBufferPointer { slots in
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = rows * t / threads, hi = rows * (t + 1) / threads
            slots[t] = serialChannelSums(a + lo * c, times: b.map { $0 + lo * c }, around: shift,
                                         rows: hi - lo, channels: c)
        }
    }
    var first = parts[0].0, second = parts[0].1
    for part in parts.dropFirst() {
        for j in 0..<c { first[j] += part.0[j]; second[j] += part.1[j] }
    }
    return (first, second)
}

func serialChannelSums(_ a: UnsafePointer<Float>, times b: UnsafePointer<Float>?, around shift: UnsafePointer<Float>?,
                       rows: Int, channels c: Int) -> ([Double], [Double]) {
    guard c > 0 else { return ([], []) }
    var first = [Double](repeating: 0, count: c), second = [Double](repeating: 0, count: c)
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: max(1, 2 * c))
    defer { partial.deallocate() }
    first.withUnsafeMutableBufferPointer { p1 in
        second.withUnsafeMutableBufferPointer { p2 in
            rk_channel_sums(a, b, shift, rows, c, partial, p1.baseAddress!, p2.baseAddress!)
        }
    }
    return (first, second)
}
