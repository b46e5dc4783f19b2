// The seams a test can reach into a real optimisation step through: replace a tower's output or
// backward, touch the gradients, move the temperature. Training itself passes none; the
// collapse-monitor tests pass faults that reproduce the ways training fails.
import Neural

/// Hooks `OptimizationStep` calls on step `step` (counted from 1); every default leaves the step
/// exactly as it is.
protocol StepHooks {
    /// The pictures the step sees.
    func images(_ images: Tensor, step: Int) -> Tensor
    /// A tower's output instead of its forward, or nil for the usual one.
    func forwardImage(_ model: DualEncoder, _ images: Tensor, step: Int) -> Tensor?
    func forwardText(_ model: DualEncoder, rows: Int, step: Int) -> Tensor?
    /// True when the hook ran the tower's backward itself (or skipped it).
    func backwardImage(_ model: DualEncoder, _ gradient: Tensor, step: Int) -> Bool
    func backwardText(step: Int) -> Bool
    /// After the backward pass, before clipping.
    func alterGradients(_ model: DualEncoder, step: Int)
    /// After the optimiser step, before the temperature's clamp.
    func alterLogScale(_ model: DualEncoder, step: Int)
}

extension StepHooks {
    func images(_ images: Tensor, step: Int) -> Tensor { images }
    func forwardImage(_ model: DualEncoder, _ images: Tensor, step: Int) -> Tensor? { nil }
    func forwardText(_ model: DualEncoder, rows: Int, step: Int) -> Tensor? { nil }
    func backwardImage(_ model: DualEncoder, _ gradient: Tensor, step: Int) -> Bool { false }
    func backwardText(step: Int) -> Bool { false }
    func alterGradients(_ model: DualEncoder, step: Int) {}
    func alterLogScale(_ model: DualEncoder, step: Int) {}
}
