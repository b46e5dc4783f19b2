// Turns a caption into lower-case words: the one place that decides what a "word" is, so that
// training captions, the vocabulary and search queries are all cut the same way.
// It knows nothing of ids (see Vocabulary) and runs over Unicode scalars without regular
// expressions, so 100k captions take well under a second.
import Foundation

/// Splits text into lower-case words.
///
/// The rules, applied in this order:
/// 1. The whole text is lower-cased with Unicode rules (`"Ünïcode"` → `"ünïcode"`,
///    `"STRAẞE"` → `"straße"`). No case folding: `"straße"` and `"strasse"` stay different words.
/// 2. A word is a maximal run of letters (any script), decimal digits, and combining marks that
///    follow a letter or digit (so a decomposed `"é"` stays one word with its accent).
///    `"café,"` → `["café"]`, `"Straße"` → `["straße"]`, `"mp3"` → `["mp3"]`.
/// 3. Everything else separates words and is dropped: spaces, punctuation, symbols, emoji,
///    underscores and hyphens. `"red-and-blue"` → `["red", "and", "blue"]`,
///    `"file_name"` → `["file", "name"]`.
/// 4. Apostrophes (`'` and `’`) between two word characters follow `apostrophes`:
///    `.split` (default, as the PyTorch reference's `\w+`) gives `"it's"` → `["it", "s"]`;
///    `.keep` gives `["it's"]` (a curly `’` is stored as `'`).
/// 5. CJK ideographs (Han characters) are words of one character each, since those scripts put
///    no spaces between words; other scripts without spaces (Thai, kana) stay whole runs.
/// 6. With `keepNumbers == false`, words made only of digits are dropped (`"3 dogs"` →
///    `["dogs"]`); words mixing letters and digits (`"mp3"`, `"4k"`) are always kept.
///
/// Differences from the reference `re.findall(r"\w+", text.lower())`: underscores separate
/// words, a decomposed accent does not split a word, and Han characters are single words.
public struct Tokenizer: Sendable, Equatable, Codable {
    /// What an apostrophe inside a word does.
    public enum ApostropheRule: String, Sendable, Codable {
        /// `"it's"` → `["it", "s"]`.
        case split
        /// `"it's"` → `["it's"]`.
        case keep
    }

    /// Whether words made only of digits are kept.
    public var keepNumbers: Bool
    /// What an apostrophe between two word characters does.
    public var apostrophes: ApostropheRule

    public init(keepNumbers: Bool = true, apostrophes: ApostropheRule = .split) {
        self.keepNumbers = keepNumbers
        self.apostrophes = apostrophes
    }

    /// The words of `text`, lower-cased, in order.
    public func words(_ text: String) -> [String] {
        var out: [String] = []
        forEachWord(text) { out.append($0) }
        return out
    }

    /// Calls `body` with each word of `text` in order (no array built: used when counting).
    public func forEachWord(_ text: String, _ body: (String) -> Void) {
        let doneASCII = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for b in bytes where b >= 0x80 { return false }
            forEachASCIIWord(bytes, body)
            return true
        }
        if doneASCII == true { return }
        // Classify before lower-casing (case does not change letter-ness) and lower-case each
        // word alone: cheaper than lower-casing the whole text first.
        let scalars = Array(text.unicodeScalars)
        var word = String.UnicodeScalarView()
        var onlyDigits = true

        func flush() {
            if !word.isEmpty {
                if keepNumbers || !onlyDigits { body(String(word).lowercased()) }
                word = String.UnicodeScalarView()
            }
            onlyDigits = true
        }

        var i = 0
        let n = scalars.count
        while i < n {
            let s = scalars[i]
            switch Tokenizer.kind(of: s) {
            case .letter:
                word.append(s)
                onlyDigits = false
            case .digit:
                word.append(s)
            case .mark:
                if !word.isEmpty { word.append(s) } else { flush() }
            case .ideograph:
                flush()
                body(String(Character(s)).lowercased())
            case .apostrophe:
                let nextIsWord = i + 1 < n && Tokenizer.kind(of: scalars[i + 1]).continuesWord
                if apostrophes == .keep && !word.isEmpty && nextIsWord {
                    word.append("'")
                    onlyDigits = false
                } else {
                    flush()
                }
            case .separator:
                flush()
            }
            i += 1
        }
        flush()
    }

    /// The same rules on pure-ASCII text, without Unicode tables (most captions): about 4× faster.
    private func forEachASCIIWord(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (String) -> Void) {
        var word: [UInt8] = []
        word.reserveCapacity(32)
        var onlyDigits = true
        func flush() {
            if !word.isEmpty {
                if keepNumbers || !onlyDigits { body(String(decoding: word, as: UTF8.self)) }
                word.removeAll(keepingCapacity: true)
            }
            onlyDigits = true
        }
        let n = bytes.count
        for i in 0..<n {
            let b = bytes[i]
            if b >= 0x61 && b <= 0x7A {
                word.append(b)
                onlyDigits = false
            } else if b >= 0x41 && b <= 0x5A {
                word.append(b | 0x20)
                onlyDigits = false
            } else if b >= 0x30 && b <= 0x39 {
                word.append(b)
            } else if b == 0x27 && apostrophes == .keep && !word.isEmpty && i + 1 < n
                        && Tokenizer.kind(of: Unicode.Scalar(bytes[i + 1])).continuesWord {
                word.append(b)
                onlyDigits = false
            } else {
                flush()
            }
        }
        flush()
    }

    enum Kind {
        case letter, digit, mark, ideograph, apostrophe, separator
        var continuesWord: Bool { self == .letter || self == .digit }
    }

    @inline(__always)
    static func kind(of s: Unicode.Scalar) -> Kind {
        let v = s.value
        if v < 0x80 {
            if (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) { return .letter }
            if v >= 0x30 && v <= 0x39 { return .digit }
            return v == 0x27 ? .apostrophe : .separator
        }
        if v == 0x2019 { return .apostrophe }
        let properties = s.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return properties.isIdeographic ? .ideograph : .letter
        case .decimalNumber:
            return .digit
        case .nonspacingMark, .spacingMark, .enclosingMark:
            return .mark
        default:
            return .separator
        }
    }
}
