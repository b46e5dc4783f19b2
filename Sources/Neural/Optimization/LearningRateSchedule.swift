// Learning-rate schedules: the rate as a pure function of the step, so a resumed run picks
// up the same curve from its saved step count. Linear warm-up then cosine decay to a floor,
// and a constant rate.
import Foundation

/// A learning rate for every optimizer step; `step` counts completed steps from 0.
public protocol LearningRateSchedule: Sendable {
    func rate(at step: Int) -> Float
}

/// The same rate at every step: for tests, fine-tuning and sanity runs.
public struct ConstantSchedule: LearningRateSchedule {
    public let baseRate: Float
    public init(baseRate: Float) {
        precondition(baseRate >= 0, "learning rate must not be negative, got \(baseRate)")
        self.baseRate = baseRate
    }
    public func rate(at step: Int) -> Float { baseRate }
}

/// Linear warm-up from near zero to `baseRate`, then half a cosine down to `finalRate`.
///
/// Warm-up keeps the first steps, taken with untrained moments and random features, from
/// blowing up; the cosine tail lets the model settle. Step s (0-based) gets
/// - s < warmupSteps: baseRate·(s+1)/warmupSteps (the first step already moves; the last
///   warm-up step reaches baseRate),
/// - warmupSteps ≤ s < totalSteps: finalRate + (baseRate−finalRate)·½(1+cos(π·(s−warmupSteps)/(totalSteps−warmupSteps))),
/// - s ≥ totalSteps: finalRate.
public struct WarmupCosineSchedule: LearningRateSchedule {
    public let baseRate: Float
    public let warmupSteps: Int
    public let totalSteps: Int
    public let finalRate: Float

    public init(baseRate: Float, warmupSteps: Int, totalSteps: Int, finalRate: Float = 0) {
        precondition(baseRate >= 0 && finalRate >= 0 && finalRate <= baseRate,
                     "need 0 ≤ finalRate ≤ baseRate, got \(finalRate), \(baseRate)")
        precondition(warmupSteps >= 0 && totalSteps >= warmupSteps,
                     "need 0 ≤ warmupSteps ≤ totalSteps, got \(warmupSteps), \(totalSteps)")
        self.baseRate = baseRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.finalRate = finalRate
    }

    public func rate(at step: Int) -> Float {
        precondition(step >= 0, "schedule step must not be negative, got \(step)")
        if step < warmupSteps {
            return Float(Double(baseRate) * Double(step + 1) / Double(warmupSteps))
        }
        guard step < totalSteps else { return finalRate }
        let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return Float(Double(finalRate) + Double(baseRate - finalRate) * cosine)
    }
}
