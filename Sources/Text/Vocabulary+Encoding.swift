// Captions → fixed-length rows of token ids for the text tower: one caption for a query, a
// flat (B, T) block for a training batch. Truncates at T and pads with id 0; reports the words
// that became "unknown" so a user can see why a query matches poorly.
import Foundation

/// One caption as token ids.
public struct EncodedCaption: Sendable, Equatable {
    /// (T) ids, `maxLength` of them: the first `length` are words, the rest `paddingID`.
    public var ids: [Int32]
    /// Number of real (non-padding) tokens, `0...maxLength`; 0 for a caption with no words.
    public var length: Int
    /// Words among the kept tokens that are not in the vocabulary (encoded as `unknownID`),
    /// in order of first appearance, each once.
    public var unknownWords: [String]
}

/// A batch of captions as one flat (B, T) id block, row-major, ready for an embedding lookup.
public struct EncodedBatch: Sendable, Equatable {
    /// (B, T) ids, row b at `ids[b*T ..< (b+1)*T]`, padded with `paddingID`.
    public var ids: [Int32]
    /// (B) real token count of each row.
    public var lengths: [Int]
    /// B, the number of captions.
    public var batchSize: Int
    /// T, the fixed row length (the `maxLength` asked for, not the longest caption).
    public var maxLength: Int
    /// Hashed character n-grams of every token slot, as bags: slot p = b·T + t holds
    /// `subwordIDs[subwordOffsets[p] ..< subwordOffsets[p + 1]]` (empty for padding). Both
    /// empty when the model has no subword table.
    public var subwordIDs: [Int32]
    public var subwordOffsets: [Int32]

    public init(ids: [Int32], lengths: [Int], batchSize: Int, maxLength: Int,
                subwordIDs: [Int32] = [], subwordOffsets: [Int32] = []) {
        precondition(ids.count == batchSize * maxLength && lengths.count == batchSize,
                     "\(ids.count) ids and \(lengths.count) lengths for \(batchSize) × \(maxLength)")
        precondition(subwordOffsets.isEmpty || subwordOffsets.count == ids.count + 1,
                     "\(subwordOffsets.count) subword offsets for \(ids.count) token slots")
        self.ids = ids
        self.lengths = lengths
        self.batchSize = batchSize
        self.maxLength = maxLength
        self.subwordIDs = subwordIDs
        self.subwordOffsets = subwordOffsets
    }

    public var hasSubwords: Bool { !subwordOffsets.isEmpty }
}

extension Vocabulary {
    /// Encodes one caption: tokenize, look up, truncate at `maxLength`, pad with 0.
    /// An empty caption (or one with no words) gives `length == 0`; the caller decides what
    /// that means (the text tower must not average over zero tokens).
    public func encode(_ caption: String, maxLength: Int) -> EncodedCaption {
        precondition(maxLength >= 1, "maxLength must be at least 1, got \(maxLength)")
        var ids = [Int32](repeating: Vocabulary.paddingID, count: maxLength)
        var length = 0
        var unknown: [String] = []
        var unknownSeen = Set<String>()
        tokenizer.forEachWord(caption) { word in
            guard length < maxLength else { return }
            let id = self.id(of: word)
            if id == Vocabulary.unknownID && unknownSeen.insert(word).inserted { unknown.append(word) }
            ids[length] = id
            length += 1
        }
        return EncodedCaption(ids: ids, length: length, unknownWords: unknown)
    }

    /// Encodes a batch into one (B, T) block with T = `maxLength`, as the text tower consumes it;
    /// with `subwords`, each kept word's hashed character n-grams too.
    public func encodeBatch(_ captions: [String], maxLength: Int, subwords: Subwords? = nil) -> EncodedBatch {
        precondition(maxLength >= 1, "maxLength must be at least 1, got \(maxLength)")
        let b = captions.count
        var ids = [Int32](repeating: Vocabulary.paddingID, count: b * maxLength)
        var lengths = [Int](repeating: 0, count: b)
        var bags = subwords.map { _ in [[Int32]](repeating: [], count: b * maxLength) }
        ids.withUnsafeMutableBufferPointer { out in
            for (row, caption) in captions.enumerated() {
                let base = row * maxLength
                var length = 0
                tokenizer.forEachWord(caption) { word in
                    guard length < maxLength else { return }
                    out[base + length] = self.id(of: word)
                    if let subwords { bags![base + length] = subwords.ids(of: word) }
                    length += 1
                }
                lengths[row] = length
            }
        }
        guard let bags else { return EncodedBatch(ids: ids, lengths: lengths, batchSize: b, maxLength: maxLength) }
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(bags.count + 1)
        for bag in bags { offsets.append(offsets.last! + Int32(bag.count)) }
        return EncodedBatch(ids: ids, lengths: lengths, batchSize: b, maxLength: maxLength,
                            subwordIDs: bags.flatMap { $0 }, subwordOffsets: offsets)
    }
}
