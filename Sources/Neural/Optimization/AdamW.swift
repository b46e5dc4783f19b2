// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), the same arithmetic as
// PyTorch's torch.optim.AdamW. One flat loop per parameter over raw buffers; frozen rows are
// skipped entirely. Sparse tables are updated densely, like PyTorch with dense gradients.
import Foundation

/// Adam with decoupled weight decay, per-group decay and learning-rate multiplier.
///
/// Each step, for each parameter p with gradient g, at group rate lr and decay wd:
/// p ← p − lr·wd·p; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
///
/// Tables with `touchedRows` are still stepped densely: rows with a zero gradient keep
/// moving on their momentum and decaying, exactly as PyTorch's AdamW does for an
/// `nn.Embedding` with dense gradients. (A lazy, touched-rows-only update would be faster
/// but changes the optimizer's meaning.) Frozen rows are neither updated nor decayed, and
/// their moments stay zero.
public final class AdamW: Optimizer {
    public private(set) var groups: [ParameterGroup]
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public private(set) var stepCount = 0
    public private(set) var lastUpdateNorms: [String: Double] = [:]
    /// First and second moments, parallel to `groups[g].parameters[i]`.
    private var firstMoments: [[Tensor]]
    private var secondMoments: [[Tensor]]

    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2),
                     "AdamW betas must lie in [0, 1), got \(beta1), \(beta2)")
        precondition(epsilon > 0, "AdamW epsilon must be positive, got \(epsilon)")
        checkUniqueNames(groups)
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoments = groups.map { $0.parameters.map { Tensor(zeros: $0.shape) } }
        secondMoments = firstMoments
    }

    public func step(learningRate: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = 1 - pow(Double(beta1), t)
        let correction2 = 1 - pow(Double(beta2), t)
        var norms: [String: Double] = [:]
        for g in groups.indices {
            let group = groups[g]
            let lr = Double(learningRate) * Double(group.learningRateMultiplier)
            let decay = Float(1 - lr * Double(group.weightDecay))
            let stepSize = Float(lr / correction1)
            let invRootCorrection2 = Float(1 / correction2.squareRoot())
            for (i, p) in group.parameters.enumerated() {
                precondition(p.gradient.shape == p.value.shape,
                             "\(p.name): gradient \(p.gradient.shape) vs value \(p.value.shape)")
                var change = 0.0
                let ranges = trainableRanges(of: p)
                let settings = AdamWKernel(beta1: beta1, beta2: beta2, epsilon: epsilon, decay: decay,
                                           stepSize: stepSize, invRootCorrection2: invRootCorrection2)
                p.gradient.withUnsafeBufferPointer { gb in
                    p.value.withUnsafeMutableBufferPointer { wb in
                        firstMoments[g][i].withUnsafeMutableBufferPointer { mb in
                            secondMoments[g][i].withUnsafeMutableBufferPointer { vb in
                                for range in ranges {
                                    change += settings.run(w: wb.baseAddress! + range.lowerBound,
                                                           g: gb.baseAddress! + range.lowerBound,
                                                           m: mb.baseAddress! + range.lowerBound,
                                                           v: vb.baseAddress! + range.lowerBound, count: range.count)
                                }
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
                out[p.name + ".exp_avg"] = firstMoments[g][i]
                out[p.name + ".exp_avg_sq"] = secondMoments[g][i]
            }
        }
        return out
    }

    public func load(state: [String: Tensor]) throws {
        let step = try readStep(state)
        var first = firstMoments, second = secondMoments
        for g in groups.indices {
            for (i, p) in groups[g].parameters.enumerated() {
                first[g][i] = try readMoment(state, key: p.name + ".exp_avg", shape: p.shape)
                second[g][i] = try readMoment(state, key: p.name + ".exp_avg_sq", shape: p.shape)
            }
        }
        stepCount = step
        firstMoments = first
        secondMoments = second
    }
}

/// The per-element AdamW update over one contiguous run, eight lanes at a time; returns the
/// sum of squared changes (for `lastUpdateNorms`).
struct AdamWKernel {
    let beta1, beta2, epsilon, decay, stepSize, invRootCorrection2: Float

    func run(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
             v: UnsafeMutablePointer<Float>, count: Int) -> Double {
        typealias V = SIMD8<Float>
        var total = 0.0
        var j = 0
        while j + 8 <= count {
            var lanes = V.zero
            let blockEnd = min(count, j + 4096) // Float lanes summed in blocks, then Double.
            while j + 8 <= blockEnd {
                let gv = UnsafeRawPointer(g + j).loadUnaligned(as: V.self)
                let mv = beta1 * UnsafeRawPointer(m + j).loadUnaligned(as: V.self) + (1 - beta1) * gv
                let vv = beta2 * UnsafeRawPointer(v + j).loadUnaligned(as: V.self) + (1 - beta2) * gv * gv
                let old = UnsafeRawPointer(w + j).loadUnaligned(as: V.self)
                let new = old * decay - stepSize * mv / (vv.squareRoot() * invRootCorrection2 + epsilon)
                UnsafeMutableRawPointer(m + j).storeBytes(of: mv, as: V.self)
                UnsafeMutableRawPointer(v + j).storeBytes(of: vv, as: V.self)
                UnsafeMutableRawPointer(w + j).storeBytes(of: new, as: V.self)
                lanes += (new - old) * (new - old)
                j += 8
            }
            total += Double(lanes.sum())
        }
        while j < count {
            let grad = g[j]
            let mj = beta1 * m[j] + (1 - beta1) * grad
            let vj = beta2 * v[j] + (1 - beta2) * grad * grad
            m[j] = mj
            v[j] = vj
            let old = w[j]
            let new = old * decay - stepSize * mj / (vj.squareRoot() * invRootCorrection2 + epsilon)
            w[j] = new
            total += Double((new - old) * (new - old))
            j += 1
        }
        return total
    }
}
