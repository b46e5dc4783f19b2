import Foundation
import Testing
import Neural

/// A parameter with given values and gradient.
private func parameter(_ name: String, _ role: ParameterRole, _ values: [Float], shape: [Int]? = nil,
                       gradient: [Float]? = nil) -> Parameter {
    let p = Parameter(name: name, value: Tensor(shape: shape ?? [values.count], data: values), role: role)
    if let gradient { p.gradient = Tensor(shape: p.shape, data: gradient) }
    return p
}

/// PyTorch's AdamW, written out in Double, for one scalar over several steps.
private func referenceAdamW(p0: Double, gradients: [Double], lr: Double, wd: Double,
                            b1: Double = 0.9, b2: Double = 0.999, eps: Double = 1e-8) -> Double {
    var p = p0, m = 0.0, v = 0.0
    for (i, g) in gradients.enumerated() {
        let t = Double(i + 1)
        p -= lr * wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p -= lr / (1 - pow(b1, t)) * m / (v.squareRoot() / (1 - pow(b2, t)).squareRoot() + eps)
    }
    return p
}

struct OptimizerTests {
    @Test func adamWTwoStepsMatchHandComputation() {
        // p=1, g=0.5, lr=0.1, wd=0.1: decay to 0.99, bias-corrected m̂/√v̂ = 1 → 0.89;
        // second step 0.89·0.99 − 0.1 = 0.7811.
        let p = parameter("w", .weight, [1], gradient: [0.5])
        let adam = AdamW(groups: [ParameterGroup(name: "all", parameters: [p], weightDecay: 0.1)])
        adam.step(learningRate: 0.1)
        #expect(abs(Double(p.value[0]) - 0.89) < 1e-6)
        adam.step(learningRate: 0.1)
        #expect(abs(Double(p.value[0]) - 0.7811) < 1e-6)
        #expect(adam.stepCount == 2)
    }

    /// 19 elements: two full eight-lane blocks and a scalar tail, three steps of changing gradients.
    @Test func adamWMatchesDoubleReferenceWithChangingGradients() {
        var rng = SeededGenerator(seed: 11)
        let starts = Tensor(randomNormal: [19], std: 1, using: &rng).data
        let grads = (0..<3).map { _ in Tensor(randomNormal: [19], std: 0.5, using: &rng).data }
        let p = parameter("w", .weight, starts)
        let adam = AdamW(groups: [ParameterGroup(name: "all", parameters: [p], weightDecay: 0.05,
                                                 learningRateMultiplier: 0.5)], beta1: 0.8, beta2: 0.99, epsilon: 1e-6)
        for g in grads {
            p.gradient = Tensor(shape: [19], data: g)
            adam.step(learningRate: 0.02)
        }
        for j in 0..<19 {
            let expected = referenceAdamW(p0: Double(starts[j]), gradients: grads.map { Double($0[j]) },
                                          lr: 0.01, wd: 0.05, b1: 0.8, b2: 0.99, eps: 1e-6)
            #expect(abs(Double(p.value[j]) - expected) < 1e-6, "element \(j): \(p.value[j]) vs \(expected)")
        }
    }

    /// PyTorch's Nesterov SGD in Double over 19 elements (eight-lane blocks and tail).
    @Test func sgdMatchesDoubleReferenceWithChangingGradients() {
        var rng = SeededGenerator(seed: 12)
        let starts = Tensor(randomNormal: [19], std: 1, using: &rng).data
        let grads = (0..<3).map { _ in Tensor(randomNormal: [19], std: 0.5, using: &rng).data }
        let p = parameter("w", .weight, starts)
        let sgd = SGD(groups: [ParameterGroup(name: "all", parameters: [p], weightDecay: 0.01)], momentum: 0.8)
        for g in grads {
            p.gradient = Tensor(shape: [19], data: g)
            sgd.step(learningRate: 0.1)
        }
        for j in 0..<19 {
            var w = Double(starts[j]), b = 0.0
            for (t, g) in grads.enumerated() {
                let d = Double(g[j]) + 0.01 * w
                b = t == 0 ? d : 0.8 * b + d
                w -= 0.1 * (d + 0.8 * b)
            }
            #expect(abs(Double(p.value[j]) - w) < 1e-6, "element \(j): \(p.value[j]) vs \(w)")
        }
    }

    @Test func embeddingMultiplierStepsTablesFaster() {
        // One Adam step moves every element by ≈ lr whatever its gradient: the tables by 10·lr.
        let params = [parameter("a.weight", .weight, [2, 2]), parameter("embed", .embedding, [3, 2]),
                      parameter("a.bias", .bias, [2])]
        let groups = ParameterGroup.byRole(params, weightDecay: 0, embeddingLearningRateMultiplier: 10)
        #expect(groups.map(\.name) == ["decay", "embeddings", "no_decay"])
        for p in params {
            p.value = Tensor(shape: p.shape, repeating: 0)
            p.gradient = Tensor(shape: p.shape, repeating: 1)
        }
        AdamW(groups: groups).step(learningRate: 0.01)
        #expect(params[0].value.data.allSatisfy { abs($0 + 0.01) < 1e-5 })
        #expect(params[1].value.data.allSatisfy { abs($0 + 0.1) < 1e-4 })
        #expect(params[2].value.data.allSatisfy { abs($0 + 0.01) < 1e-5 })
    }

    @Test func defaultGroupsDecayOnlyWeightsAndEmbeddings() {
        // Zero gradients: Adam's own update is zero, so any change is weight decay alone.
        let params = [parameter("a.weight", .weight, [2, 2]), parameter("a.bias", .bias, [2]),
                      parameter("norm.gain", .normalization, [2]), parameter("logit_scale", .temperature, [2]),
                      parameter("embed", .embedding, [2, 2])]
        let groups = ParameterGroup.byRole(params, weightDecay: 0.5)
        #expect(groups.map(\.name) == ["decay", "no_decay"])
        #expect(groups[0].parameters.map(\.name) == ["a.weight", "embed"])
        // AdamW shrinks by lr·wd: 2 → 1.9. Nesterov SGD's L2 term d = wd·p = 1 gives
        // p − lr·(d + μd) = 2 − 0.1·1.9 = 1.81. Undecayed roles stay at 2 in both.
        let optimizers: [(any Optimizer, Float)] = [(AdamW(groups: groups), 1.9),
                                                    (SGD(groups: ParameterGroup.byRole(params, weightDecay: 0.5)), 1.81)]
        for (optimizer, decayed) in optimizers {
            for p in params { p.value = Tensor(shape: p.shape, repeating: 2) }
            optimizer.step(learningRate: 0.1)
            for p in params {
                let expected: Float = ParameterGroup.decays(p.role) ? decayed : 2
                #expect(p.value.data.allSatisfy { abs($0 - expected) < 1e-6 }, "\(p.name): \(p.value)")
            }
        }
    }

    @Test func frozenRowsAreNeitherUpdatedNorDecayed() {
        // A (4, 9) table with rows 0 and 2 frozen: runs of 9 elements take both kernel paths.
        let table = parameter("text.embed", .embedding, [Float](repeating: 1, count: 36), shape: [4, 9],
                              gradient: [Float](repeating: 1, count: 36))
        table.frozenRows = [2, 0]
        table.touchedRows = [0, 1, 2, 3]
        for optimizer in [AdamW(groups: ParameterGroup.byRole([table], weightDecay: 0.1)) as any Optimizer,
                          SGD(groups: ParameterGroup.byRole([table], weightDecay: 0.1))] {
            table.value = Tensor(shape: [4, 9], repeating: 1)
            optimizer.step(learningRate: 0.1)
            for row in 0..<4 {
                let values = table.value.data[(row * 9)..<(row * 9 + 9)]
                if row == 0 || row == 2 {
                    #expect(values.allSatisfy { $0 == 1 }, "frozen row \(row) moved: \(Array(values))")
                } else {
                    #expect(values.allSatisfy { $0 < 0.95 }, "row \(row) did not move: \(Array(values))")
                }
            }
            let moment = optimizer.state()[optimizer is AdamW ? "text.embed.exp_avg" : "text.embed.momentum_buffer"]!
            #expect(moment.data[18..<27].allSatisfy { $0 == 0 })
        }
    }

    @Test(arguments: [true, false])
    func sgdMatchesHandComputation(nesterov: Bool) {
        // p=1, g=0.5 both steps, wd=0.1, μ=0.9, lr=0.1.
        // Nesterov: d=0.6, b=0.6, p=1−0.1·1.14=0.886; d=0.5886, b=1.1286, p=0.886−0.160434.
        // Plain: p=0.94; d=0.594, b=1.134, p=0.8266.
        let p = parameter("w", .weight, [1], gradient: [0.5])
        let sgd = SGD(groups: [ParameterGroup(name: "all", parameters: [p], weightDecay: 0.1)], momentum: 0.9, nesterov: nesterov)
        sgd.step(learningRate: 0.1)
        #expect(abs(Double(p.value[0]) - (nesterov ? 0.886 : 0.94)) < 1e-6)
        sgd.step(learningRate: 0.1)
        #expect(abs(Double(p.value[0]) - (nesterov ? 0.725566 : 0.8266)) < 1e-6)
    }

    @Test func lastUpdateNormsMeasureTheChange() {
        let p = parameter("w", .weight, [1, -2, 3], gradient: [0.3, 0.1, -0.2])
        let before = p.value
        let adam = AdamW(groups: [ParameterGroup(name: "all", parameters: [p], weightDecay: 0.01)])
        adam.step(learningRate: 0.05)
        var squares = 0.0
        for j in 0..<3 { squares += pow(Double(p.value[j] - before[j]), 2) }
        #expect(abs(adam.lastUpdateNorms["w"]! - squares.squareRoot()) < 1e-7)
    }

    /// Two identical models; one optimizer saves its state to a safetensors file after three
    /// steps, the other loads it; the fourth step must agree bit for bit.
    @Test(arguments: ["adamw", "sgd"])
    func stateRoundTripResumesExactly(kind: String) throws {
        func make(_ params: [Parameter]) -> any Optimizer {
            let groups = ParameterGroup.byRole(params, weightDecay: 0.01)
            return kind == "adamw" ? AdamW(groups: groups) : SGD(groups: groups)
        }
        var rng = SeededGenerator(seed: 3)
        let original = [Parameter(name: "m.weight", value: Tensor(randomNormal: [4, 3], std: 1, using: &rng), role: .weight),
                        Parameter(name: "m.bias", value: Tensor(randomNormal: [3], std: 1, using: &rng), role: .bias)]
        let first = make(original)
        for _ in 0..<3 {
            for p in original { p.gradient = Tensor(randomNormal: p.shape, std: 1, using: &rng) }
            first.step(learningRate: 0.01)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optim-state-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("optimizer.safetensors")
        try Safetensors.write(first.state(), to: file)

        let copy = original.map { Parameter(name: $0.name, value: $0.value, role: $0.role) }
        let second = make(copy)
        try second.load(state: Safetensors.read(contentsOf: file).tensors)
        #expect(second.stepCount == 3)
        for (a, b) in zip(original, copy) {
            a.gradient = Tensor(randomNormal: a.shape, std: 1, using: &rng)
            b.gradient = a.gradient
        }
        first.step(learningRate: 0.01)
        second.step(learningRate: 0.01)
        for (a, b) in zip(original, copy) { #expect(a.value == b.value, "\(a.name) differs after resuming") }
    }

    @Test func loadingAnotherModelsStateIsRefusedAndChangesNothing() {
        let p = parameter("w", .weight, [1, 2], gradient: [1, 1])
        let adam = AdamW(groups: [ParameterGroup(name: "all", parameters: [p])])
        adam.step(learningRate: 0.1)
        var state = adam.state()
        state["w.exp_avg"] = Tensor(zeros: [3])
        #expect(throws: OptimizerStateError(key: "w.exp_avg", problem: "shape [3], parameter has [2]")) {
            try adam.load(state: state)
        }
        state["w.exp_avg"] = nil
        #expect(throws: OptimizerStateError(key: "w.exp_avg", problem: "missing")) { try adam.load(state: state) }
        #expect(adam.stepCount == 1)
        #expect(adam.state() == { var s = state; s["w.exp_avg"] = adam.state()["w.exp_avg"]; return s }())
    }

    @Test func namePrefixGroupsFollowTowers() {
        let params = ["image.conv1.weight", "text.embed", "image.conv1.bias", "logit_scale"].map {
            parameter($0, .weight, [1])
        }
        let byDepth = ParameterGroup.byNamePrefix(params)
        #expect(byDepth.map(\.name) == ["image", "text", "logit_scale"])
        #expect(byDepth[0].parameters.map(\.name) == ["image.conv1.weight", "image.conv1.bias"])
        let byList = ParameterGroup.byNamePrefixes(params, ["text.", "image."])
        #expect(byList.map(\.name) == ["text", "image", "other"])
        #expect(byList[2].parameters.map(\.name) == ["logit_scale"])
    }
}
