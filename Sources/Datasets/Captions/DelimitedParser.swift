// Cuts a TSV/CSV byte buffer into (image path, caption) records with their starting line:
// RFC 4180 quoting (quoted delimiters, doubled quotes, newlines inside quotes), BOM, CRLF.
// Two columns: an unquoted caption runs to the end of its line, delimiters included (as the
// reference's split("\t", 1)); columns after a quoted caption are ignored.
import Foundation

struct DelimitedParser {
    enum Outcome: Equatable {
        case pair(path: String, caption: String)
        case problem(String)
    }

    struct Record: Equatable {
        var line: Int
        var outcome: Outcome
    }

    let bytes: [UInt8]
    let delimiter: UInt8
    private var pos = 0
    private var line = 1

    static let quote = UInt8(ascii: "\"")
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    init(data: Data, delimiter: UInt8) {
        var b = [UInt8](data)
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { b.removeFirst(3) }
        self.bytes = b
        self.delimiter = delimiter
    }

    /// All records; blank lines are skipped.
    mutating func records() -> [Record] {
        var out: [Record] = []
        while let r = next() { out.append(r) }
        return out
    }

    mutating func next() -> Record? {
        skipBlankLines()
        guard pos < bytes.count else { return nil }
        let start = pos
        let startLine = line
        let outcome = record()
        if outcome == .problem(Self.unbalanced) {
            // Resynchronise at the line after the one the bad quote opened on.
            pos = start
            line = startLine
            skipToLineEnd()
        }
        return Record(line: startLine, outcome: outcome)
    }

    static let unbalanced = "unbalanced quote (a quoted field is never closed)"

    private mutating func record() -> Outcome {
        // Image path: quoted, or up to the delimiter or the end of the line.
        var path: String
        if bytes[pos] == Self.quote {
            guard let (text, _) = quoted() else { return .problem(Self.unbalanced) }
            path = text
            if pos < bytes.count && bytes[pos] != delimiter && !atLineEnd() {
                skipToLineEnd()
                return .problem("text after the closing quote of the image path")
            }
        } else {
            let s = pos
            while pos < bytes.count && bytes[pos] != delimiter && bytes[pos] != Self.newline { pos += 1 }
            path = text(s, pos)
        }
        path = CaptionCollector.normalize(path)
        guard pos < bytes.count && bytes[pos] == delimiter else {
            skipToLineEnd()
            return .problem(path.isEmpty ? "empty line" : "missing caption (no \(delimiterName) after the image path)")
        }
        pos += 1
        while pos < bytes.count && (bytes[pos] == 0x20 || (bytes[pos] == 0x09 && delimiter != 0x09)) { pos += 1 }
        // Caption: quoted (RFC 4180), or the rest of the line.
        var caption: String
        let captionStart = pos
        if pos < bytes.count && bytes[pos] == Self.quote {
            let quotedResult = quoted()
            if let (text, _) = quotedResult, pos >= bytes.count || atLineEnd() || bytes[pos] == delimiter {
                caption = text
                skipToLineEndQuoted()
            } else if let (_, spansLines) = quotedResult, !spansLines {
                // `"Stop" sign`: a quote that does not wrap the whole field is ordinary text.
                pos = captionStart
                caption = restOfLine()
            } else {
                return .problem(Self.unbalanced)
            }
        } else {
            caption = restOfLine()
        }
        if path.isEmpty { return .problem("missing image path") }
        caption = caption.trimmedSpace
        if caption.isEmpty { return .problem("empty caption for \(path)") }
        return .pair(path: path, caption: caption)
    }

    private var delimiterName: String { delimiter == 0x09 ? "tab" : "'\(Character(Unicode.Scalar(delimiter)))'" }

    /// Reads a quoted field from its opening quote; nil if it never closes. `pos` ends just
    /// after the closing quote.
    private mutating func quoted() -> (String, spansLines: Bool)? {
        pos += 1
        var out: [UInt8] = []
        var spans = false
        while pos < bytes.count {
            let c = bytes[pos]
            if c == Self.quote {
                if pos + 1 < bytes.count && bytes[pos + 1] == Self.quote {
                    out.append(Self.quote)
                    pos += 2
                    continue
                }
                pos += 1
                return (String(decoding: out, as: UTF8.self), spans)
            }
            if c == Self.newline { line += 1; spans = true }
            out.append(c)
            pos += 1
        }
        return nil
    }

    private func atLineEnd() -> Bool {
        bytes[pos] == Self.newline
            || (bytes[pos] == Self.carriageReturn && (pos + 1 == bytes.count || bytes[pos + 1] == Self.newline))
            || bytes[pos] == 0x20 && onlySpacesToLineEnd()
    }

    private func onlySpacesToLineEnd() -> Bool {
        var p = pos
        while p < bytes.count && (bytes[p] == 0x20 || bytes[p] == Self.carriageReturn) { p += 1 }
        return p == bytes.count || bytes[p] == Self.newline
    }

    private func text(_ a: Int, _ b: Int) -> String {
        bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[a..<b]), as: UTF8.self) }
    }

    private mutating func restOfLine() -> String {
        let s = pos
        while pos < bytes.count && bytes[pos] != Self.newline { pos += 1 }
        let t = text(s, pos)
        if pos < bytes.count { pos += 1; line += 1 }
        return t
    }

    private mutating func skipToLineEnd() {
        while pos < bytes.count && bytes[pos] != Self.newline { pos += 1 }
        if pos < bytes.count { pos += 1; line += 1 }
    }

    /// Skips extra columns after a quoted caption, honouring their quotes.
    private mutating func skipToLineEndQuoted() {
        while pos < bytes.count && bytes[pos] != Self.newline {
            if bytes[pos] == Self.quote {
                let save = (pos, line)
                if quoted() == nil { pos = save.0; line = save.1; skipToLineEnd(); return }
            } else {
                pos += 1
            }
        }
        if pos < bytes.count { pos += 1; line += 1 }
    }

    private mutating func skipBlankLines() {
        while pos < bytes.count {
            var p = pos
            while p < bytes.count && (bytes[p] == 0x20 || bytes[p] == 0x09 || bytes[p] == Self.carriageReturn) { p += 1 }
            guard p < bytes.count else { pos = p; return }
            guard bytes[p] == Self.newline else { return }
            pos = p + 1
            line += 1
        }
    }
}
