// Output helpers for the CLI: results to stdout, diagnostics to stderr, JSON for scripts
// (numbers as numbers, slashes as they are, non-finite figures as null), fixed-width
// formatting for tables and counted nouns ("1 picture", "2 pictures").
import Foundation

enum Console {
    /// Set on the ranks of a distributed run other than the leader: their diagnostics would
    /// repeat the leader's. Errors that end the process print whatever it says.
    nonisolated(unsafe) static var isQuiet = false

    /// A diagnostic line on stderr (stdout stays clean for results and JSON).
    static func error(_ line: String) {
        if isQuiet { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The line of an error that ends the process, printed on every rank.
    static func failure(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints `value` as one line of JSON on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        print(try json(value))
    }

    /// `value` as JSON: sorted keys, unescaped slashes, and NaN or ±Inf (a collapsed run's
    /// figures) as null, which JSON has, instead of a failure to encode.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let marker = "\u{1}nonfinite\u{1}"
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: marker, negativeInfinity: marker, nan: marker)
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        return text.replacingOccurrences(of: "\"\\u0001nonfinite\\u0001\"", with: "null")
    }
}

/// "1 picture", "3 pictures"; `plural` for nouns that do not just take an s.
func counted(_ n: Int, _ noun: String, plural: String? = nil) -> String {
    "\(n) " + (n == 1 ? noun : plural ?? noun + "s")
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

/// `text` left-aligned in a column of `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
