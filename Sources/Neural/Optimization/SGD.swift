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
                p.gradient.withUnsafeBufferPointer { gb in
                    p.value.withUnsafeMutableBufferPointer { wb in
                        buffers[g][i].withUnsafeMutableBufferPointer { bb in
                            let gp = gb.baseAddress!, wp = wb.baseAddress!, bp = bb.baseAddress!
                            let mu = first ? 0 : momentum
                            let nesterov = self.nesterov
                            for range in ranges {
                                var local: Float = 0
                                for j in range {
                                    let old = wp[j]
                                    let d = gp[j] + wd * old
                                    let b = mu * bp[j] + d
                                    bp[j] = b
                                    let direction = nesterov ? d + momentum * b : b
                                    let new = old - lr * direction
                                    wp[j] = new
                                    local += (new - old) * (new - old)
                                }
                                change += Double(local)
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
