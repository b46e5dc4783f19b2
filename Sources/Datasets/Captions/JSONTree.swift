// A small JSON parser that remembers the line each value starts on, so a bad COCO annotation
// can be reported as "captions.json:1234". Foundation's JSONSerialization gives no positions.
// Strict RFC 8259 (no comments, no trailing commas); recursion is capped to survive hostile files.
import Foundation

/// A parsed JSON value and the 1-based line it starts on.
struct JSONTree {
    enum Value {
        case object([String: JSONTree])
        case array([JSONTree])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }
    var value: Value
    var line: Int

    subscript(key: String) -> JSONTree? {
        if case let .object(members) = value { return members[key] }
        return nil
    }
    var array: [JSONTree]? { if case let .array(a) = value { return a }; return nil }
    var string: String? { if case let .string(s) = value { return s }; return nil }
    var isObject: Bool { if case .object = value { return true }; return false }

    /// An id as COCO writes it: an integral number ("42") or a string.
    var idKey: String? {
        switch value {
        case let .number(d) where d == d.rounded() && abs(d) < 9.0e15: return String(Int64(d))
        case let .string(s): return s
        default: return nil
        }
    }

    struct SyntaxError: Error {
        var line: Int
        var column: Int
        var message: String
    }

    static func parse(_ data: Data) throws -> JSONTree {
        let bytes = [UInt8](data)
        return try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(b: buffer)
            if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { parser.pos = 3 }
            let tree = try parser.value(depth: 0)
            parser.skipSpace()
            if parser.pos < buffer.count { throw parser.error("unexpected text after the JSON value") }
            return tree
        }
    }

    private struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var pos = 0
        var line = 1
        var lineStart = 0

        func error(_ message: String) -> SyntaxError {
            SyntaxError(line: line, column: pos - lineStart + 1, message: message)
        }

        mutating func skipSpace() {
            while pos < b.count {
                switch b[pos] {
                case 0x20, 0x09, 0x0D: pos += 1
                case 0x0A: pos += 1; line += 1; lineStart = pos
                default: return
                }
            }
        }

        mutating func expect(_ literal: String, _ result: Value) throws -> Value {
            let bytes = Array(literal.utf8)
            let n = bytes.count
            guard pos + n <= b.count, (0..<n).allSatisfy({ b[pos + $0] == bytes[$0] }) else {
                throw error("unexpected character")
            }
            pos += n
            return result
        }

        mutating func value(depth: Int) throws -> JSONTree {
            guard depth < 256 else { throw error("nesting deeper than 256 levels") }
            skipSpace()
            guard pos < b.count else { throw error("unexpected end of file") }
            let startLine = line
            switch b[pos] {
            case UInt8(ascii: "{"):
                pos += 1
                var members: [String: JSONTree] = [:]
                skipSpace()
                if pos < b.count && b[pos] == UInt8(ascii: "}") { pos += 1; return JSONTree(value: .object(members), line: startLine) }
                while true {
                    skipSpace()
                    guard pos < b.count, b[pos] == UInt8(ascii: "\"") else { throw error("expected a \"key\"") }
                    let key = try string()
                    skipSpace()
                    guard pos < b.count, b[pos] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                    pos += 1
                    members[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard pos < b.count else { throw error("unexpected end of file inside an object") }
                    if b[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if b[pos] == UInt8(ascii: "}") { pos += 1; break }
                    throw error("expected ',' or '}' in an object")
                }
                return JSONTree(value: .object(members), line: startLine)
            case UInt8(ascii: "["):
                pos += 1
                var items: [JSONTree] = []
                skipSpace()
                if pos < b.count && b[pos] == UInt8(ascii: "]") { pos += 1; return JSONTree(value: .array(items), line: startLine) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard pos < b.count else { throw error("unexpected end of file inside an array") }
                    if b[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if b[pos] == UInt8(ascii: "]") { pos += 1; break }
                    throw error("expected ',' or ']' in an array")
                }
                return JSONTree(value: .array(items), line: startLine)
            case UInt8(ascii: "\""):
                return JSONTree(value: .string(try string()), line: startLine)
            case UInt8(ascii: "t"): return JSONTree(value: try expect("true", .bool(true)), line: startLine)
            case UInt8(ascii: "f"): return JSONTree(value: try expect("false", .bool(false)), line: startLine)
            case UInt8(ascii: "n"): return JSONTree(value: try expect("null", .null), line: startLine)
            default:
                let start = pos
                while pos < b.count, Parser.isNumberByte(b[pos]) { pos += 1 }
                guard pos > start, let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<pos]), as: UTF8.self)) else {
                    pos = start
                    throw error("unexpected character")
                }
                return JSONTree(value: .number(d), line: startLine)
            }
        }

        static func isNumberByte(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
        }

        /// Reads a string starting at its opening quote.
        mutating func string() throws -> String {
            pos += 1
            let start = pos
            while pos < b.count, b[pos] != UInt8(ascii: "\""), b[pos] != UInt8(ascii: "\\"), b[pos] >= 0x20 { pos += 1 }
            guard pos < b.count else { throw error("unterminated string") }
            if b[pos] == UInt8(ascii: "\"") {
                defer { pos += 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: b[start..<pos]), as: UTF8.self)
            }
            var out = [UInt8](UnsafeBufferPointer(rebasing: b[start..<pos]))
            while pos < b.count {
                let c = b[pos]
                if c == UInt8(ascii: "\"") { pos += 1; return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { throw error(c == 0x0A ? "unterminated string (newline inside)" : "control character in a string") }
                if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
                guard pos + 1 < b.count else { break }
                let e = b[pos + 1]
                pos += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00, pos + 1 < b.count,
                       b[pos] == UInt8(ascii: "\\"), b[pos + 1] == UInt8(ascii: "u") {
                        pos += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low &- 0xDC00 & 0x3FF)
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8))
                default: throw error("bad escape \\\(Character(Unicode.Scalar(e)))")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= b.count else { throw error("bad \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let d = Character(Unicode.Scalar(b[pos])).hexDigitValue else { throw error("bad \\u escape") }
                v = v << 4 | UInt32(d)
                pos += 1
            }
            return v
        }
    }
}
