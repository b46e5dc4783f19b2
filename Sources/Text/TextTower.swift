// The text tower: token embeddings (plus optional learned position embeddings), an attention
// pooling with a learned query and a bag-of-words mean over the real tokens, summed, projected
// to the embedding space and L2-normalised. Word order reaches the output only through the
// position embeddings, which shift each token's key by where it stands.
import Neural

/// Token ids (B, T) with lengths → (B, E) unit-length embeddings.
public final class TextTower: Module {
    public let tokens: Embedding
    /// (T, D) learned position vectors, `name.position.weight`; nil when disabled.
    public let positions: Parameter?
    /// Hashed character n-grams (`name.subwords.weight`), one bag per word, added to its word
    /// vector; nil when the model has none. With it an unknown word is its n-grams alone.
    public let subwords: EmbeddingBag?
    public let attention: AttentionPooling
    public let projection: Linear
    private let normalize = L2Normalize()
    private var lengths: [Int] = []
    /// Token slots holding the unknown id in the last forward (with subwords only).
    private var unknownSlots: [Int] = []
    private var shape = (batch: 0, length: 0)

    public init(vocabularySize: Int, tokenDimension: Int, embeddingDimension: Int, maxTokens: Int,
                positionEmbeddings: Bool, subwordBuckets: Int = 0, name: String = "text", rng: inout SeededGenerator) {
        // N(0, 1) tables, as PyTorch's nn.Embedding starts.
        tokens = Embedding(vocabularySize: vocabularySize, dimension: tokenDimension, paddingID: 0, std: 1,
                           name: "\(name).tokens", rng: &rng)
        positions = positionEmbeddings
            ? Parameter(name: "\(name).position.weight",
                        value: Tensor(randomNormal: [maxTokens, tokenDimension], std: 1, using: &rng), role: .embedding)
            : nil
        attention = AttentionPooling(dimension: tokenDimension, name: "\(name).attention", rng: &rng)
        projection = Linear(inputs: tokenDimension, outputs: embeddingDimension, name: "\(name).proj", rng: &rng)
        // Drawn last, so a model without the table starts exactly as before.
        subwords = subwordBuckets > 0
            ? EmbeddingBag(rows: subwordBuckets, dimension: tokenDimension, std: 1, name: "\(name).subwords", rng: &rng)
            : nil
    }

    /// How captions must be encoded for this tower (nil: no n-grams).
    public var subwordHasher: Subwords? { subwords.map { Subwords(buckets: $0.rows) } }

    public var parameters: [Parameter] {
        tokens.parameters + (positions.map { [$0] } ?? []) + (subwords?.parameters ?? []) + attention.parameters
            + projection.parameters
    }

    private init(sharing other: TextTower) {
        (tokens, positions, attention, projection) = (other.tokens.copy(), other.positions, other.attention.copy(),
                                                      other.projection.copy())
        subwords = other.subwords?.copy()
    }

    /// The embeddings of `batch`, computed on a copy that shares the parameters: the tower itself
    /// keeps nothing, so several threads can embed at once.
    public func embed(_ batch: EncodedBatch) -> Tensor { TextTower(sharing: self).forward(batch) }

    /// `batch.ids` is (batch, length) row-major, padded with 0 after each caption's tokens; keeps
    /// what `backward` needs.
    public func forward(_ encoded: EncodedBatch) -> Tensor {
        let (ids, lengths, batch, length) = (encoded.ids, encoded.lengths, encoded.batchSize, encoded.maxLength)
        precondition(ids.count == batch * length && lengths.count == batch,
                     "TextTower: \(ids.count) ids and \(lengths.count) lengths for batch \(batch) × \(length)")
        self.lengths = lengths
        shape = (batch, length)
        var embedded = tokens.forward(ids, batch: batch, length: length)  // (B, T, D)
        if let subwords {
            precondition(encoded.hasSubwords, "TextTower: the model reads character n-grams, the batch was encoded without them")
            let bags = subwords.forward(ids: encoded.subwordIDs, offsets: encoded.subwordOffsets)  // (B·T, D)
            unknownSlots = ids.indices.filter { ids[$0] == Vocabulary.unknownID }
            let d = bags.columns
            embedded.withUnsafeMutableBufferPointer { e in
                bags.withUnsafeBufferPointer { g in
                    for p in unknownSlots { (e.baseAddress! + p * d).update(repeating: 0, count: d) }
                    for k in 0..<e.count { e[k] += g[k] }
                }
            }
        }
        if let positions {
            precondition(length <= positions.shape[0], "TextTower: \(length) tokens, positions for \(positions.shape[0])")
            let d = positions.shape[1]
            embedded.withUnsafeMutableBufferPointer { e in
                positions.value.withUnsafeBufferPointer { p in
                    for b in 0..<batch {
                        for t in 0..<length {
                            let row = e.baseAddress! + (b * length + t) * d, pos = p.baseAddress! + t * d
                            for k in 0..<d { row[k] += pos[k] }
                        }
                    }
                }
            }
        }
        var pooled = attention.forward(embedded, lengths: lengths)  // (B, D)
        addMaskedMean(of: embedded, into: &pooled)
        return normalize.forward(projection.forward(pooled))
    }

    /// Accumulates the gradients of every parameter for `gradOutput` (B, E).
    public func backward(_ gradOutput: Tensor) {
        let gradPooled = projection.backward(normalize.backward(gradOutput))  // (B, D)
        var gradEmbedded = attention.backward(gradPooled)  // (B, T, D)
        let (batch, length) = shape
        let d = gradPooled.columns
        // The bag-of-words mean spreads each sequence's gradient evenly over its real tokens.
        gradEmbedded.withUnsafeMutableBufferPointer { g in
            gradPooled.withUnsafeBufferPointer { gp in
                for b in 0..<batch where lengths[b] > 0 {
                    let share = 1 / Float(lengths[b])
                    for t in 0..<lengths[b] {
                        let row = g.baseAddress! + (b * length + t) * d, src = gp.baseAddress! + b * d
                        for k in 0..<d { row[k] += share * src[k] }
                    }
                }
            }
        }
        if let positions {
            positions.gradient.withUnsafeMutableBufferPointer { gpos in
                gradEmbedded.withUnsafeBufferPointer { g in
                    for b in 0..<batch {
                        for t in 0..<length {
                            let src = g.baseAddress! + (b * length + t) * d, dst = gpos.baseAddress! + t * d
                            for k in 0..<d { dst[k] += src[k] }
                        }
                    }
                }
            }
        }
        if let subwords {
            subwords.backward(Tensor(shape: [batch * length, d], data: gradEmbedded.data))
            // An unknown word's vector is its n-grams alone: the <unk> row took no part.
            gradEmbedded.withUnsafeMutableBufferPointer { g in
                for p in unknownSlots { (g.baseAddress! + p * d).update(repeating: 0, count: d) }
            }
        }
        tokens.backward(gradEmbedded)
    }

    /// pooled[b] += mean of the first lengths[b] token vectors of sequence b (nothing when empty).
    private func addMaskedMean(of embedded: Tensor, into pooled: inout Tensor) {
        let (batch, length) = shape
        let d = pooled.columns
        pooled.withUnsafeMutableBufferPointer { out in
            embedded.withUnsafeBufferPointer { e in
                for b in 0..<batch where lengths[b] > 0 {
                    let share = 1 / Float(lengths[b])
                    let dst = out.baseAddress! + b * d
                    for t in 0..<lengths[b] {
                        let src = e.baseAddress! + (b * length + t) * d
                        for k in 0..<d { dst[k] += share * src[k] }
                    }
                }
            }
        }
    }
}
