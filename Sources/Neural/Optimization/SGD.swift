// Stochastic gradient descent with (Nesterov) momentum and L2 weight decay, the same
// arithmetic as PyTorch's torch.optim.SGD with dampening 0. One flat loop per parameter
// over raw buffers; frozen rows are skipped; sparse tables are stepped densely.

/// SGD with momentum, per-group weight decay and learning-rate multiplier.
///
/// Each step, for parameter p with gradient g, at group rate lr and decay wd:
/// d = g + wd·p; b ← μb + d (b = d on the first step);
/// p ← p − lr·(d + μb) with Nesterov, p ← p − lr·b without.
/// Weight decay here is the classic L2 term added to the gradient (as in PyTorch's SGD),
/// not AdamW's decoupled shrink; with plain SGD the two differ only by the momentum.
public final class SGD: Optimizer {
    public private(set) var groups: [ParameterGroup]
    public let momentum: Float
    public let nesterov: Bool
    public private(set) var stepCount = 0
    public private(set) var lastUpdateNorms: [String: Double] = [:]
    /// Momentum buffers, parallel to `groups[g].parameters[i]`.
    private var buffers: [[Tensor]]

    public init(groups: [ParameterGroup], momentum: Float = 0.9, nesterov: Bool = true) {
        precondition((0..<1).contains(momentum), "SGD momentum must lie in [0, 1), got \(momentum)")
        precondition(!nesterov || momentum > 0, "Nesterov SGD needs a positive momentum")
        checkUniqueNames(groups)
        self.groups = groups
        self.momentum = momentum
        self.nesterov = nesterov
        buffers = groups.map { $0.parameters.map { Tensor(zeros: $0.shape) } }
    }

    public func step(learningRate: Float) {
        let first = stepCount == 0
        stepCount += 1
        var norms: [String: Double] = [:]
        for g in groups.indices {
            let group = groups[g]
            let lr = learningRate * group.learningRateMultiplier
            let wd = group.weightDecay
            for (i, p) in group.parameters.enumerated() {
                precondition(p.gradient.shape == p.value.shape,
                             "\(p.name): gradient \(p.gradient.shape) vs value \(p.value.shape)")
                var change = 0.0
                let ranges = trainableRanges(of: p)
                let kernel = SGDKernel(learningRate: lr, weightDecay: wd, momentum: momentum,
                                       bufferMomentum: first ? 0 : momentum, nesterov: nesterov)
                p.gradient.withUnsafeBufferPointer { gb in
                    p.value.withUnsafeMutableBufferPointer { wb in
                        buffers[g][i].withUnsafeMutableBufferPointer { bb in
                            for range in ranges {
                                change += kernel.run(w: wb.baseAddress! + range.lowerBound, g: gb.baseAddress! + range.lowerBound,
                                                     b: bb.baseAddress! + range.lowerBound, count: range.count)
                            }
                        }
                    }
                }
                norms[p.name] = change.squareRoot()
            }
        }
        lastUpdateNorms = norms
    }

    public func state() -> [String: Tensor] {
        var out = ["step": stepTensor(stepCount)]
        for g in groups.indices {
            for (i, p) in groups[g].parameters.enumerated() {
                out[p.name + ".momentum_buffer"] = buffers[g][i]
            }
        }
        return out
    }

    public func load(state: [String: Tensor]) throws {
        let step = try readStep(state)
        var restored = buffers
        for g in groups.indices {
            for (i, p) in groups[g].parameters.enumerated() {
                restored[g][i] = try readMoment(state, key: p.name + ".momentum_buffer", shape: p.shape)
            }
        }
        stepCount = step
        buffers = restored
    }
}

/// The per-element SGD update over one contiguous run, eight lanes at a time; returns the sum
/// of squared changes. `bufferMomentum` is 0 on the first step, so the buffer starts as d.
struct SGDKernel {
    let learningRate, weightDecay, momentum, bufferMomentum: Float
    let nesterov: Bool

    func run(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, b: UnsafeMutablePointer<Float>, count: Int) -> Double {
        typealias V = SIMD8<Float>
        var total = 0.0
        var j = 0
        while j + 8 <= count {
            var lanes = V.zero
            let blockEnd = min(count, j + 4096)
            while j + 8 <= blockEnd {
                let old = UnsafeRawPointer(w + j).loadUnaligned(as: V.self)
                let d = UnsafeRawPointer(g + j).loadUnaligned(as: V.self) + weightDecay * old
                let buffer = bufferMomentum * UnsafeRawPointer(b + j).loadUnaligned(as: V.self) + d
                UnsafeMutableRawPointer(b + j).storeBytes(of: buffer, as: V.self)
                let direction = nesterov ? d + momentum * buffer : buffer
                let new = old - learningRate * direction
                UnsafeMutableRawPointer(w + j).storeBytes(of: new, as: V.self)
                lanes += (new - old) * (new - old)
                j += 8
            }
            total += Double(lanes.sum())
        }
        while j < count {
            let old = w[j]
            let d = g[j] + weightDecay * old
            let buffer = bufferMomentum * b[j] + d
            b[j] = buffer
            let new = old - learningRate * (nesterov ? d + momentum * buffer : buffer)
            w[j] = new
            total += Double((new - old) * (new - old))
            j += 1
        }
        return total
    }
}
