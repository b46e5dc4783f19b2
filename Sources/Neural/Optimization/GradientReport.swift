// Per-group gradient figures for the training log: each group's gradient and parameter
// L2 norms, the update/parameter ratio of the last step, the spread between groups, and the
// names of parameters whose gradients hold NaN or ±Inf. One line sums it up for a human.
import Foundation

/// Gradient health by group, with a one-line summary that puts problems first.
///
/// Two towers trained together can drift apart: one tower's gradients a hundred times the
/// other's usually means a learning rate, initialisation or normalisation mistake. The
/// summary names such a pair at the front of the line so it cannot be missed.
public struct GradientReport: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public let name: String
        /// L2 norm of the group's gradients (NaN/∞ if any gradient is not finite).
        public let gradientNorm: Double
        /// L2 norm of the group's parameter values.
        public let parameterNorm: Double
        /// ‖Δp‖/‖p‖ of the last optimizer step over the group; nil without update norms or
        /// when the parameters are all zero.
        public internal(set) var updateRatio: Double?
        public let scalarCount: Int
    }

    public private(set) var groups: [Group]
    /// Parameters whose gradient holds NaN or ±Inf, by name, in group order.
    public let nonFiniteParameters: [String]
    /// Groups whose gradient is exactly zero (a tower that receives no signal).
    public let zeroGradientGroups: [String]
    /// Largest over smallest gradient norm among groups with a finite, non-zero norm, and the
    /// two groups; nil when fewer than two groups qualify.
    public let spread: (ratio: Double, largest: String, smallest: String)?
    /// The ratio from which `isImbalanced` holds (100 by default).
    public let imbalanceThreshold: Double

    /// Measures the current gradients and values. Pass the optimizer's `lastUpdateNorms` to get
    /// update/parameter ratios (call after `step`, before zeroing the gradients).
    public init(groups: [ParameterGroup], updateNorms: [String: Double] = [:], imbalanceThreshold: Double = 100) {
        var rows: [Group] = []
        var nonFinite: [String] = []
        for group in groups {
            var gradSquares = 0.0, valueSquares = 0.0, updateSquares = 0.0
            var haveUpdates = !group.parameters.isEmpty
            for p in group.parameters {
                let g = sumOfSquares(p.gradient)
                if !g.isFinite || !p.gradient.isFinite { nonFinite.append(p.name) }
                gradSquares += g
                valueSquares += sumOfSquares(p.value)
                if let u = updateNorms[p.name] { updateSquares += u * u } else { haveUpdates = false }
            }
            let parameterNorm = valueSquares.squareRoot()
            let ratio = haveUpdates && parameterNorm > 0 ? updateSquares.squareRoot() / parameterNorm : nil
            rows.append(Group(name: group.name, gradientNorm: gradSquares.squareRoot(),
                              parameterNorm: parameterNorm, updateRatio: ratio, scalarCount: group.scalarCount))
        }
        self.groups = rows
        self.nonFiniteParameters = nonFinite
        self.zeroGradientGroups = rows.filter { $0.gradientNorm == 0 }.map(\.name)
        self.imbalanceThreshold = imbalanceThreshold
        let measured = rows.filter { $0.gradientNorm.isFinite && $0.gradientNorm > 0 }
        if measured.count >= 2,
           let hi = measured.max(by: { $0.gradientNorm < $1.gradientNorm }),
           let lo = measured.min(by: { $0.gradientNorm < $1.gradientNorm }) {
            spread = (hi.gradientNorm / lo.gradientNorm, hi.name, lo.name)
        } else {
            spread = nil
        }
    }

    /// The same report with each group's update/parameter ratio from the optimizer's
    /// `lastUpdateNorms`: measure the gradients before clipping and the step, then call this
    /// after the step, so the norms are the raw ones and the ratios those of the step taken.
    public func addingUpdates(_ updateNorms: [String: Double], of groups: [ParameterGroup]) -> GradientReport {
        var report = self
        for (k, group) in groups.enumerated() where k < report.groups.count {
            let squares = group.parameters.reduce(0.0) { sum, p in
                let u = updateNorms[p.name] ?? 0
                return sum + u * u
            }
            let norm = report.groups[k].parameterNorm
            report.groups[k].updateRatio = norm > 0 ? squares.squareRoot() / norm : nil
        }
        return report
    }

    /// True when one group's gradient norm is at least `imbalanceThreshold` times another's.
    public var isImbalanced: Bool { (spread?.ratio ?? 0) >= imbalanceThreshold }

    /// True when nothing is wrong: every gradient finite, no group silent, no imbalance.
    public var isHealthy: Bool { nonFiniteParameters.isEmpty && zeroGradientGroups.isEmpty && !isImbalanced }

    /// One line: warnings first (non-finite, imbalance, zero gradients), then each group's
    /// gradient norm (and update ratio), e.g.
    /// `IMBALANCE: image grad norm 250× text | grad image 2.50e+00 (upd/p 1.0e-03), text 1.00e-02 | max/min 250×`.
    public var summary: String {
        var parts: [String] = []
        if !nonFiniteParameters.isEmpty {
            parts.append("NON-FINITE gradients in " + nonFiniteParameters.joined(separator: ", "))
        }
        if isImbalanced, let s = spread {
            parts.append("IMBALANCE: \(s.largest) grad norm \(Self.times(s.ratio)) \(s.smallest)")
        }
        if !zeroGradientGroups.isEmpty {
            parts.append("ZERO gradient in " + zeroGradientGroups.joined(separator: ", "))
        }
        let figures = groups.map { g -> String in
            var text = "\(g.name) " + String(format: "%.2e", g.gradientNorm)
            if let r = g.updateRatio { text += " (upd/p " + String(format: "%.1e", r) + ")" }
            return text
        }
        parts.append("grad " + figures.joined(separator: ", "))
        if let s = spread { parts.append("max/min \(Self.times(s.ratio))") }
        return parts.joined(separator: " | ")
    }

    private static func times(_ ratio: Double) -> String {
        ratio >= 10 ? String(format: "%.0f×", ratio) : String(format: "%.1f×", ratio)
    }

    public static func == (a: GradientReport, b: GradientReport) -> Bool {
        a.groups == b.groups && a.nonFiniteParameters == b.nonFiniteParameters
            && a.zeroGradientGroups == b.zeroGradientGroups && a.imbalanceThreshold == b.imbalanceThreshold
            && a.spread?.ratio == b.spread?.ratio && a.spread?.largest == b.spread?.largest
            && a.spread?.smallest == b.spread?.smallest
    }
}
