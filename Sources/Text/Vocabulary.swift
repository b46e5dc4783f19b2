// The word ↔ id table of the text tower: built once from the training captions (most frequent
// words first), then used unchanged to encode training batches and queries. Ids 0 and 1 are
// reserved for padding and unknown words. Encoding lives in Vocabulary+Encoding.swift, the JSON
// file format in Vocabulary+File.swift.
import Foundation

/// A fixed word list with reserved ids `0` = padding and `1` = unknown word, and the tokenizer
/// that cuts text into those words (kept together so queries are cut like training captions).
public struct Vocabulary: Sendable, Equatable {
    /// Id of the padding token that fills a caption up to its maximum length.
    public static let paddingID: Int32 = 0
    /// Id given to every word not in the vocabulary.
    public static let unknownID: Int32 = 1
    /// Spelling of the reserved entries in `words` (never produced by the tokenizer).
    public static let paddingWord = "<pad>"
    public static let unknownWord = "<unk>"

    /// The tokenizer every caption and query goes through.
    public let tokenizer: Tokenizer
    /// All entries by id: `words[0] == "<pad>"`, `words[1] == "<unk>"`, then the kept words.
    public let words: [String]
    /// Training-set count of each entry, parallel to `words` (0 for the reserved entries);
    /// kept for diagnostics such as "how rare was the last word kept".
    public let counts: [Int]
    let ids: [String: Int32]

    /// Number of ids, reserved ones included: the row count of the embedding table.
    public var count: Int { words.count }

    /// Builds a vocabulary from the captions the model trains on.
    ///
    /// - Parameters:
    ///   - captions: training captions (never validation or test ones, or evaluation leaks).
    ///   - tokenizer: how captions are cut into words; stored in the vocabulary.
    ///   - minCount: words seen fewer times are left out (they become unknown).
    ///   - maxSize: most ids in total, the two reserved ones included (as the reference's
    ///     `--vocab 5000`); the most frequent words are kept, ties broken by the words'
    ///     Unicode order so the result is the same on every machine.
    public static func build<S: Sequence>(from captions: S, tokenizer: Tokenizer = Tokenizer(),
                                          minCount: Int = 1, maxSize: Int = 5000) -> Vocabulary
    where S.Element == String {
        precondition(minCount >= 1, "minCount must be at least 1, got \(minCount)")
        precondition(maxSize >= 2, "maxSize must leave room for <pad> and <unk>, got \(maxSize)")
        var tally: [String: Int] = [:]
        for caption in captions {
            tokenizer.forEachWord(caption) { tally[$0, default: 0] += 1 }
        }
        var kept = tally.filter { $0.value >= minCount }.map { (word: $0.key, count: $0.value) }
        kept.sort { $0.count != $1.count ? $0.count > $1.count : $0.word < $1.word }
        if kept.count > maxSize - 2 { kept.removeLast(kept.count - (maxSize - 2)) }
        return Vocabulary(uncheckedWords: [paddingWord, unknownWord] + kept.map(\.word),
                          counts: [0, 0] + kept.map(\.count), tokenizer: tokenizer)
    }

    /// A vocabulary from an explicit word list (ids 2, 3, … in the order given).
    /// Throws `VocabularyError.duplicateWord` or `.reservedWord` if the list cannot be a vocabulary.
    public init(words: [String], counts: [Int]? = nil, tokenizer: Tokenizer = Tokenizer()) throws {
        let all = [Vocabulary.paddingWord, Vocabulary.unknownWord] + words
        let allCounts = [0, 0] + (counts ?? Array(repeating: 0, count: words.count))
        guard allCounts.count == all.count else {
            throw VocabularyError.malformed(source: "word list",
                                            reason: "\(words.count) words but \(allCounts.count - 2) counts")
        }
        var seen: [String: Int] = [:]
        for (i, w) in all.enumerated() {
            if i >= 2 && (w == Vocabulary.paddingWord || w == Vocabulary.unknownWord) {
                throw VocabularyError.reservedWord(source: "word list", word: w, id: i)
            }
            if let first = seen[w] {
                throw VocabularyError.duplicateWord(source: "word list", word: w, ids: [first, i])
            }
            seen[w] = i
        }
        self.init(uncheckedWords: all, counts: allCounts, tokenizer: tokenizer)
    }

    init(uncheckedWords: [String], counts: [Int], tokenizer: Tokenizer) {
        self.words = uncheckedWords
        self.counts = counts
        self.tokenizer = tokenizer
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(uncheckedWords.count)
        for (i, w) in uncheckedWords.enumerated() where i >= 2 { ids[w] = Int32(i) }
        self.ids = ids
    }

    /// The id of one already-tokenized word (`unknownID` if absent).
    public func id(of word: String) -> Int32 { ids[word] ?? Vocabulary.unknownID }

    /// The word of an id, or nil if the id is out of range.
    public func word(of id: Int32) -> String? {
        id >= 0 && Int(id) < words.count ? words[Int(id)] : nil
    }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.words == b.words && a.counts == b.counts && a.tokenizer == b.tokenizer
    }
}
