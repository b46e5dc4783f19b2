import Testing
import Neural

private func parameter(_ name: String, _ values: [Float], gradient: [Float], role: ParameterRole = .weight) -> Parameter {
    let p = Parameter(name: name, value: Tensor(shape: [values.count], data: values), role: role)
    p.gradient = Tensor(shape: [values.count], data: gradient)
    return p
}

struct GradientReportTests {
    @Test func clippingScalesToExactlyMaxNormAndReturnsThePreClipNorm() {
        let a = parameter("a", [0, 0], gradient: [3, 4]), b = parameter("b", [0], gradient: [12])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(norm == 13)
        #expect(abs(gradientNorm([a, b]) - 1) < 1e-6)
        #expect(abs(a.gradient[0] - 3 / 13) < 1e-7 && abs(b.gradient[0] - 12 / 13) < 1e-7)
    }

    @Test func clippingLeavesSmallGradientsAlone() {
        let a = parameter("a", [0, 0], gradient: [0.3, 0.4])
        #expect(abs(clipGradientNorm([a], maxNorm: 1) - 0.5) < 1e-7)
        #expect(a.gradient.data == [0.3, 0.4])
    }

    @Test func nonFiniteNormIsReportedNotSpread() {
        let a = parameter("a", [0, 0], gradient: [3, .nan]), b = parameter("b", [0], gradient: [12])
        #expect(clipGradientNorm([a, b], maxNorm: 1).isNaN)
        #expect(b.gradient.data == [12])
        let c = parameter("c", [0], gradient: [.infinity])
        #expect(clipGradientNorm([b, c], maxNorm: 1) == .infinity)
        #expect(b.gradient.data == [12])
        let report = GradientReport(groups: [ParameterGroup(name: "all", parameters: [a, b, c])])
        #expect(report.nonFiniteParameters == ["a", "c"])
        #expect(report.summary.hasPrefix("NON-FINITE gradients in a, c"))
    }

    @Test func reportFlagsAGroupHundredsOfTimesAnother() {
        let image = ParameterGroup(name: "image", parameters: [parameter("image.w", [1, 1], gradient: [0.6, 0.8])])
        let text = ParameterGroup(name: "text", parameters: [parameter("text.w", [1], gradient: [0.004])])
        let scale = ParameterGroup(name: "logit_scale", parameters: [parameter("logit_scale", [2], gradient: [0.1])])
        let report = GradientReport(groups: [image, text, scale])
        #expect(report.groups.map(\.gradientNorm).map { ($0 * 1e6).rounded() / 1e6 } == [1, 0.004, 0.1])
        #expect(abs(report.groups[0].parameterNorm - 2.0.squareRoot()) < 1e-12)
        #expect(report.isImbalanced && !report.isHealthy)
        #expect(report.spread?.largest == "image" && report.spread?.smallest == "text")
        #expect(abs(report.spread!.ratio - 250) < 1e-3)
        #expect(report.summary.hasPrefix("IMBALANCE: image grad norm 250× text |"), "\(report.summary)")
    }

    @Test func balancedReportHasNoWarningAndShowsUpdateRatios() {
        let w = parameter("image.w", [3, 4], gradient: [0.1, 0.2]), t = parameter("text.w", [1], gradient: [0.5])
        let groups = ParameterGroup.byNamePrefix([w, t])
        let adam = AdamW(groups: groups)
        adam.step(learningRate: 0.01)
        let report = GradientReport(groups: groups, updateNorms: adam.lastUpdateNorms)
        #expect(report.isHealthy)
        #expect(!report.summary.contains("IMBALANCE") && report.summary.hasPrefix("grad image"))
        // The first Adam step moves every element by ≈ lr: ‖Δ‖/‖p‖ = 0.01·√2/5 for image.
        #expect(abs(report.groups[0].updateRatio! - 0.01 * 2.0.squareRoot() / 5) < 1e-5)
        #expect(report.summary.contains("upd/p"))
    }

    @Test func silentGroupIsNamed() {
        let w = parameter("image.w", [1], gradient: [0.1]), t = parameter("text.w", [1], gradient: [0])
        let report = GradientReport(groups: ParameterGroup.byNamePrefix([w, t]))
        #expect(report.zeroGradientGroups == ["text"])
        #expect(report.summary.hasPrefix("ZERO gradient in text"))
    }
}
