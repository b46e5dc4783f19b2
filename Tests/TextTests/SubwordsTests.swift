import Testing
@testable import Text
@testable import Neural

struct SubwordsTests {
    @Test func wordsThatShareLettersShareBuckets() {
        let h = Subwords(buckets: 1 << 14)
        let cat = Set(h.ids(of: "cat")), cats = Set(h.ids(of: "cats")), dog = Set(h.ids(of: "dog"))
        // "<cat>": 3 + 2 + 1 n-grams; "cats" keeps "<ca", "cat", "<cat" of them.
        #expect(h.ids(of: "cat").count == 6)
        #expect(cat.intersection(cats).count >= 3)
        #expect(cat.intersection(dog).isEmpty)
        #expect(h.ids(of: "a").count == 1)  // "<a>" only
        #expect(h.ids(of: "cat") == Subwords(buckets: 1 << 14).ids(of: "cat"))  // no per-process seed
        #expect(h.ids(of: "straße").allSatisfy { $0 >= 0 && $0 < 1 << 14 })
    }

    @Test func hashIsFixedAcrossMachines() {
        // FNV-1a of "<ca" mod 1000, computed by hand: a changed hash would silently break every
        // saved model, so it is pinned.
        var hash: UInt32 = 2_166_136_261
        for byte in "<ca".utf8 { hash ^= UInt32(byte); hash = hash &* 16_777_619 }
        #expect(Subwords(buckets: 1000).ids(of: "cat")[0] == Int32(hash % 1000))
    }

    @Test func batchesCarryOneBagPerTokenSlot() throws {
        let v = try Vocabulary(words: ["a", "dog"])
        let h = Subwords(buckets: 97)
        let b = v.encodeBatch(["a dog", "dogs"], maxLength: 3, subwords: h)
        #expect(b.subwordOffsets.count == 7)
        func bag(_ p: Int) -> [Int32] { Array(b.subwordIDs[Int(b.subwordOffsets[p])..<Int(b.subwordOffsets[p + 1])]) }
        #expect(bag(0) == h.ids(of: "a") && bag(1) == h.ids(of: "dog") && bag(2).isEmpty)
        #expect(b.ids[3] == Vocabulary.unknownID && bag(3) == h.ids(of: "dogs"))
        #expect(bag(4).isEmpty && bag(5).isEmpty)
        #expect(!v.encodeBatch(["a dog"], maxLength: 3).hasSubwords)
    }

    @Test func unknownWordsAreTheirNGramsAlone() throws {
        var rng = SeededGenerator(seed: 5)
        let v = try Vocabulary(words: ["cat", "dog"])
        let tower = TextTower(vocabularySize: v.count, tokenDimension: 8, embeddingDimension: 6, maxTokens: 4,
                              positionEmbeddings: false, subwordBuckets: 64, rng: &rng)
        // The <unk> row takes no part: changing it changes nothing.
        let before = tower.embed(v.encodeBatch(["cats"], maxLength: 4, subwords: tower.subwordHasher))
        for k in 0..<8 { tower.tokens.weight.value[8 + k] += 5 }
        let after = tower.embed(v.encodeBatch(["cats"], maxLength: 4, subwords: tower.subwordHasher))
        #expect(before.data == after.data)
    }

    @Test func towerGradientsWithSubwordsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 6)
        let v = try Vocabulary(words: ["red", "circle", "blue", "square"])
        let tower = TextTower(vocabularySize: v.count, tokenDimension: 6, embeddingDimension: 5, maxTokens: 5,
                              positionEmbeddings: true, subwordBuckets: 23, rng: &rng)
        let batch = v.encodeBatch(["red circle", "blue squares left", "reds"], maxLength: 5, subwords: tower.subwordHasher)
        let out = tower.forward(batch)
        let g = Tensor(randomNormal: out.shape, std: 1, using: &rng)
        for p in tower.parameters { p.zeroGradient() }
        tower.backward(g)
        func loss() -> Double {
            let y = tower.forward(batch)
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1]) * Double(g[$1]) }
        }
        let h: Float = 1e-2
        for p in tower.parameters where p.name.hasSuffix("subwords.weight") || p.name.hasSuffix("tokens.weight") {
            var worst = 0.0, scale = 0.0
            for j in 0..<p.value.count {
                let original = p.value[j]
                p.value[j] = original + h; let up = loss()
                p.value[j] = original - h; let down = loss()
                p.value[j] = original
                let numeric = (up - down) / Double(2 * h)
                worst = max(worst, abs(Double(p.gradient[j]) - numeric))
                scale = max(scale, abs(numeric))
            }
            #expect(scale > 0.01, "\(p.name): no gradient reached it")
            #expect(worst <= 1e-2 * scale + 1e-3, "\(p.name): worst difference \(worst) against \(scale)")
        }
    }
}
