// The finite-difference check every layer's backward must pass: for a random G, the loss
// L = Σ forward(x) ⊙ G is summed in Double, each input and parameter element is nudged by ±h,
// and the central differences are compared with what backward accumulated.
import Testing
@testable import Neural

enum GradientCheck {
    /// Compares backward's input gradient and every parameter's gradient with central differences.
    ///
    /// `forward` maps the input to the output; `backward` maps G to the input gradient (nil when
    /// the input is not differentiable, e.g. token ids). Passes when, for each gradient vector,
    /// ‖g − fd‖ / max(‖fd‖, 0.01) < `tolerance` and every element is within tolerance·‖fd‖∞ + 1e-3
    /// (the floors absorb Float noise where the true gradient is zero, e.g. a bias before a norm).
    static func check(input: Tensor, parameters: [Parameter], h: Float = 1e-2, tolerance: Double = 1e-2,
                      seed: UInt64 = 99, sourceLocation: SourceLocation = #_sourceLocation,
                      forward: (Tensor) -> Tensor, backward: (Tensor) -> Tensor?) {
        var rng = SeededGenerator(seed: seed)
        let output = forward(input)
        let g = Tensor(randomNormal: output.shape, std: 1, using: &rng)
        for p in parameters { p.zeroGradient() }
        let dx = backward(g)

        func loss(_ x: Tensor) -> Double {
            let y = forward(x)
            var sum = 0.0
            for i in 0..<y.count { sum += Double(y[i]) * Double(g[i]) }
            return sum
        }
        // Central difference over the actually representable perturbed values.
        func difference(_ value: Float, _ set: (Float) -> Double) -> Double {
            let up = value + h, down = value - h
            return (set(up) - set(down)) / (Double(up) - Double(down))
        }

        if let dx {
            #expect(dx.shape == input.shape, "input gradient \(dx.shape) vs input \(input.shape)",
                    sourceLocation: sourceLocation)
            var x = input
            let fd = (0..<input.count).map { i in
                difference(input[i]) { v in x[i] = v; defer { x[i] = input[i] }; return loss(x) }
            }
            compare("input", analytic: dx.data, numeric: fd, tolerance: tolerance, sourceLocation: sourceLocation)
        }
        for p in parameters {
            let original = p.value
            let fd = (0..<original.count).map { j in
                difference(original[j]) { v in p.value[j] = v; defer { p.value[j] = original[j] }; return loss(input) }
            }
            compare(p.name, analytic: p.gradient.data, numeric: fd, tolerance: tolerance, sourceLocation: sourceLocation)
        }
    }

    /// The same check for a `Layer`.
    static func check(_ layer: any Layer, input: Tensor, h: Float = 1e-2, tolerance: Double = 1e-2,
                      seed: UInt64 = 99, sourceLocation: SourceLocation = #_sourceLocation) {
        check(input: input, parameters: layer.parameters, h: h, tolerance: tolerance, seed: seed,
              sourceLocation: sourceLocation, forward: { layer.forward($0) }, backward: { layer.backward($0) })
    }

    static func compare(_ name: String, analytic: [Float], numeric: [Double], tolerance: Double,
                        sourceLocation: SourceLocation) {
        #expect(analytic.count == numeric.count, "\(name): gradient size", sourceLocation: sourceLocation)
        var diff2 = 0.0, ref2 = 0.0, refMax = 0.0, worst = 0.0, worstAt = 0
        for i in 0..<min(analytic.count, numeric.count) {
            let d = abs(Double(analytic[i]) - numeric[i])
            diff2 += d * d
            ref2 += numeric[i] * numeric[i]
            refMax = max(refMax, abs(numeric[i]))
            if d > worst { worst = d; worstAt = i }
        }
        let relative = diff2.squareRoot() / max(ref2.squareRoot(), 1e-2)
        #expect(relative < tolerance,
                "\(name): ‖g − fd‖/‖fd‖ = \(relative) (‖fd‖ = \(ref2.squareRoot()))", sourceLocation: sourceLocation)
        #expect(worst <= tolerance * refMax + 1e-3,
                "\(name): element \(worstAt) analytic \(analytic[worstAt]) vs numeric \(numeric[worstAt])",
                sourceLocation: sourceLocation)
    }
}

/// Test inputs shaped for gradient checks.
enum TestInputs {
    /// N(0, 1) values pushed at least `margin` away from zero (clear of ReLU's kink).
    static func awayFromZero(_ shape: [Int], margin: Float = 0.1, rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(randomNormal: shape, std: 1, using: &rng)
        for i in 0..<t.count where abs(t[i]) < margin { t[i] = t[i] < 0 ? -margin - abs(t[i]) : margin + t[i] }
        return t
    }

    /// All-distinct values spaced `gap` apart in random order (no max-pool window has a near tie).
    static func distinct(_ shape: [Int], gap: Float = 0.05, rng: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        let order = rng.permutation(of: n)
        return Tensor(shape: shape, data: order.map { (Float($0) - Float(n) / 2) * gap })
    }
}
