// Hashed character n-grams of a word, fastText's way: the word wrapped in "<" and ">", every
// run of 3 to 5 characters of that (whole Unicode scalars), each hashed (FNV-1a over its
// UTF-8 bytes, the same on every machine) into one of `buckets` rows. "cat" and "cats" share
// "<ca", "cat", "<cat"; a word the vocabulary never saw still gets its n-grams' rows.

/// Maps words to the ids of their hashed character n-grams.
public struct Subwords: Sendable, Equatable {
    public let buckets: Int
    public static let lengths = 3...5

    public init(buckets: Int) {
        precondition(buckets > 0, "subword buckets must be positive, got \(buckets)")
        self.buckets = buckets
    }

    /// The bucket of every 3- to 5-scalar run of "<word>", in order (repeats kept: the mean
    /// weighs an n-gram by how often it occurs).
    public func ids(of word: String) -> [Int32] {
        let scalars: [Unicode.Scalar] = ["<"] + Array(word.unicodeScalars) + [">"]
        var out: [Int32] = []
        for n in Self.lengths where n <= scalars.count {
            for start in 0...(scalars.count - n) {
                var hash: UInt32 = 2_166_136_261
                for s in scalars[start..<(start + n)] {
                    for byte in String(s).utf8 {
                        hash ^= UInt32(byte)
                        hash = hash &* 16_777_619
                    }
                }
                out.append(Int32(hash % UInt32(buckets)))
            }
        }
        return out
    }
}
