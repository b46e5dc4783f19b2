// Deliberate faults for the collapse-monitor tests: each one reproduces a known way training
// fails (a constant tower, a missing normalisation, a poisoned batch, a scaled gradient, a
// drifting temperature) inside a real optimisation step, through the step's hooks. With no
// fault set, the step is exactly the usual one.
import Foundation
import Neural
@testable import Retrieval

/// Faults an `OptimizationStep` applies from step `from` on (steps counted from 1).
struct FaultInjection: StepHooks {
    /// First step the faults act on (a snapshot for rollback needs healthy steps before it).
    var from = 1
    /// Replace a tower's output by one fixed unit vector (its gradient then reaches nothing).
    var constantImage = false
    var constantText = false
    /// Train the image tower without its final L2 normalisation: scores are raw products.
    var unnormalisedImage = false
    /// Keep the log-scale where it is (its gradient is zeroed).
    var frozenTemperature = false
    /// Subtracted from the log-scale after every step, before the clamp (a runaway temperature).
    var logScaleDrift: Float = 0
    /// Multiplies the gradient of every parameter whose name starts with `prefix`.
    var gradientScale: (prefix: String, factor: Float)?
    /// Steps whose pictures get one NaN pixel.
    var poisonedSteps: Set<Int> = []

    func isActive(at step: Int) -> Bool { step >= from }

    /// The pictures, with a NaN in the first pixel on a poisoned step.
    func images(_ images: Tensor, step: Int) -> Tensor {
        guard poisonedSteps.contains(step) else { return images }
        var poisoned = images
        poisoned[0] = .nan
        return poisoned
    }

    /// The image tower's output under the faults, or nil when the usual forward applies.
    func forwardImage(_ model: DualEncoder, _ images: Tensor, step: Int) -> Tensor? {
        guard isActive(at: step) else { return nil }
        if constantImage { return Self.constant(rows: images.shape[0], model.configuration.embeddingDimension) }
        if unnormalisedImage {
            var h = images
            for layer in model.image.network.layers.dropLast() { h = layer.forward(h) }
            return h
        }
        return nil
    }

    func forwardText(_ model: DualEncoder, rows: Int, step: Int) -> Tensor? {
        guard isActive(at: step), constantText else { return nil }
        return Self.constant(rows: rows, model.configuration.embeddingDimension)
    }

    /// Runs the image tower's backward under the faults; false when the usual backward applies.
    func backwardImage(_ model: DualEncoder, _ gradient: Tensor, step: Int) -> Bool {
        guard isActive(at: step) else { return false }
        if constantImage { return true }
        if unnormalisedImage {
            var g = gradient
            for layer in model.image.network.layers.dropLast().reversed() { g = layer.backward(g) }
            return true
        }
        return false
    }

    func backwardText(step: Int) -> Bool { isActive(at: step) && constantText }

    /// Scales or zeroes gradients after the backward pass.
    func alterGradients(_ model: DualEncoder, step: Int) {
        guard isActive(at: step) else { return }
        if let (prefix, factor) = gradientScale {
            for p in model.parameters where p.name.hasPrefix(prefix) {
                p.gradient.withUnsafeMutableBufferPointer { g in for k in 0..<g.count { g[k] *= factor } }
            }
        }
        if frozenTemperature { model.logScale.gradient[0] = 0 }
    }

    /// Moves the log-scale after the optimiser step (the clamp follows).
    func alterLogScale(_ model: DualEncoder, step: Int) {
        guard isActive(at: step), logScaleDrift != 0 else { return }
        model.logScale.value[0] -= logScaleDrift
    }

    /// Every row the same unit vector (1, 1, …)/√D.
    private static func constant(rows: Int, _ d: Int) -> Tensor {
        Tensor(shape: [rows, d], repeating: 1 / Float(d).squareRoot())
    }
}
