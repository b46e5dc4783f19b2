// The vocabulary as JSON, small enough to sit inside a model's metadata or beside its weights:
//   {"format": "retrieve.vocabulary", "version": 1,
//    "tokenizer": {"keepNumbers": true, "apostrophes": "split"},
//    "words": ["<pad>", "<unk>", "a", ...], "counts": [0, 0, 812, ...]}
// Readers check format and version first, then every invariant, and name the file in errors.
import Foundation

/// Why a vocabulary could not be read. Every case names its source (a path, or "data").
public enum VocabularyError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(source: String, reason: String)
    /// Not JSON, not a vocabulary, or a field is missing or of the wrong type.
    case malformed(source: String, reason: String)
    /// Written by a newer (or unknown) version of the format.
    case unsupportedVersion(source: String, found: Int, supported: Int)
    /// The same word at two ids: the file was edited or damaged.
    case duplicateWord(source: String, word: String, ids: [Int])
    /// `<pad>`/`<unk>` missing from ids 0/1, or present elsewhere.
    case reservedWord(source: String, word: String, id: Int)

    public var description: String {
        switch self {
        case let .unreadable(s, r): return "\(s): cannot read the vocabulary: \(r)"
        case let .malformed(s, r):
            return "\(s): not a valid vocabulary file (\(r)); rebuild it from the training captions"
        case let .unsupportedVersion(s, f, v):
            return "\(s): vocabulary format version \(f), this build reads version \(v); use a matching retrieve"
        case let .duplicateWord(s, w, ids):
            return "\(s): word \"\(w)\" appears at ids \(ids); the vocabulary file is damaged"
        case let .reservedWord(s, w, id):
            return "\(s): reserved entry \"\(w)\" misplaced at id \(id) (ids 0 and 1 must be <pad> and <unk>)"
        }
    }
}

extension Vocabulary {
    /// Value of the `format` field.
    public static let fileFormat = "retrieve.vocabulary"
    /// The version written, and the only one read.
    public static let fileVersion = 1

    private struct File: Codable {
        var format: String
        var version: Int
        var tokenizer: Tokenizer?
        var words: [String]?
        var counts: [Int]?
    }

    /// The vocabulary as JSON (UTF-8, keys sorted, one line per word for readable diffs).
    public func jsonData() -> Data {
        let file = File(format: Vocabulary.fileFormat, version: Vocabulary.fileVersion,
                        tokenizer: tokenizer, words: words, counts: counts)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding plain strings and ints cannot fail.
        return try! encoder.encode(file)
    }

    /// Writes the JSON to `url` atomically (a crash leaves the old file whole).
    public func write(to url: URL) throws {
        do { try jsonData().write(to: url, options: .atomic) } catch {
            throw VocabularyError.unreadable(source: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a vocabulary written by `write(to:)`.
    public static func read(from url: URL) throws -> Vocabulary {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw VocabularyError.unreadable(source: url.path, reason: error.localizedDescription)
        }
        return try Vocabulary(jsonData: data, source: url.path)
    }

    /// Parses the JSON of `jsonData()`; `source` names where it came from in errors.
    public init(jsonData data: Data, source: String = "data") throws {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch let error as DecodingError {
            throw VocabularyError.malformed(source: source, reason: Vocabulary.explain(error))
        } catch {
            throw VocabularyError.malformed(source: source, reason: "\(error)")
        }
        guard file.format == Vocabulary.fileFormat else {
            throw VocabularyError.malformed(source: source,
                                            reason: "format is \"\(file.format)\", expected \"\(Vocabulary.fileFormat)\"")
        }
        guard file.version == Vocabulary.fileVersion else {
            throw VocabularyError.unsupportedVersion(source: source, found: file.version,
                                                     supported: Vocabulary.fileVersion)
        }
        guard let tokenizer = file.tokenizer, let words = file.words, let counts = file.counts else {
            throw VocabularyError.malformed(source: source, reason: "missing \"tokenizer\", \"words\" or \"counts\"")
        }
        guard counts.count == words.count else {
            throw VocabularyError.malformed(source: source,
                                            reason: "\(words.count) words but \(counts.count) counts")
        }
        guard words.count >= 2, words[0] == Vocabulary.paddingWord else {
            throw VocabularyError.reservedWord(source: source, word: Vocabulary.paddingWord, id: 0)
        }
        guard words[1] == Vocabulary.unknownWord else {
            throw VocabularyError.reservedWord(source: source, word: Vocabulary.unknownWord, id: 1)
        }
        var seen: [String: Int] = [:]
        for (i, w) in words.enumerated() {
            if i >= 2 && (w == Vocabulary.paddingWord || w == Vocabulary.unknownWord) {
                throw VocabularyError.reservedWord(source: source, word: w, id: i)
            }
            if let first = seen[w] {
                throw VocabularyError.duplicateWord(source: source, word: w, ids: [first, i])
            }
            seen[w] = i
        }
        if let bad = counts.firstIndex(where: { $0 < 0 }) {
            throw VocabularyError.malformed(source: source, reason: "negative count at id \(bad)")
        }
        self.init(uncheckedWords: words, counts: counts, tokenizer: tokenizer)
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch error {
        case let .dataCorrupted(c): return "not valid JSON\(path(c)): \(c.debugDescription)"
        case let .keyNotFound(k, c): return "missing field \"\(k.stringValue)\"\(path(c))"
        case let .typeMismatch(_, c): return "wrong type\(path(c)): \(c.debugDescription)"
        case let .valueNotFound(_, c): return "null value\(path(c))"
        @unknown default: return "\(error)"
        }
    }
}
