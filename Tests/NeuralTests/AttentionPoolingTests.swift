import Testing
@testable import Neural

struct AttentionPoolingTests {
    @Test func gradientsMatchFiniteDifferencesWithMasksAndAnEmptySequence() {
        var rng = SeededGenerator(seed: 81)
        let pool = AttentionPooling(dimension: 6, name: "text.pool", rng: &rng)
        let lengths = [5, 2, 0]
        let x = Tensor(randomNormal: [3, 5, 6], std: 1, using: &rng)
        GradientCheck.check(input: x, parameters: pool.parameters,
                            forward: { pool.forward($0, lengths: lengths) }, backward: { pool.backward($0) })
        // Padding tokens receive no gradient at all.
        let dx = pool.backward(Tensor(shape: [3, 6], repeating: 1))
        for b in 0..<3 {
            for t in lengths[b]..<5 {
                #expect(dx.data[((b * 5 + t) * 6)..<((b * 5 + t) * 6 + 6)].allSatisfy { $0 == 0 }, "b \(b) t \(t)")
            }
        }
    }

    @Test func paddingGetsZeroWeightAndEmptySequencesPoolToZero() {
        var rng = SeededGenerator(seed: 82)
        let pool = AttentionPooling(dimension: 4, name: "p", rng: &rng)
        #expect(pool.parameters.map(\.name) == ["p.query", "p.key.weight", "p.key.bias", "p.value.weight", "p.value.bias"])
        let x = Tensor(randomNormal: [3, 4, 4], std: 1, using: &rng)
        let mask: [Bool] = [true, false, true, false,  false, false, false, false,  true, true, true, true]
        let y = pool.forward(x, mask: mask)
        #expect(y.isFinite && y.shape == [3, 4])
        #expect(y.data[4..<8].allSatisfy { $0 == 0 })
        let a = pool.weights
        for i in 0..<12 where !mask[i] { #expect(a[i] == 0) }
        #expect(abs(a[0] + a[2] - 1) < 1e-6)
        #expect(abs(a.data[8..<12].reduce(0, +) - 1) < 1e-6)
        // Changing a padded token changes nothing.
        var changed = x
        changed[1 * 4 + 2] = 100
        #expect(pool.forward(changed, mask: mask) == y)
    }

    @Test func oneValidTokenPassesItsValueThrough() {
        var rng = SeededGenerator(seed: 83)
        let pool = AttentionPooling(dimension: 3, name: "p", rng: &rng)
        let x = Tensor(randomNormal: [1, 2, 3], std: 1, using: &rng)
        let y = pool.forward(x, lengths: [1])
        let v = pool.value(Tensor(shape: [1, 3], data: Array(x.data[0..<3])))
        for j in 0..<3 { #expect(abs(y[j] - v[j]) < 1e-6) }
    }
}
