// The query language shared by `retrieve query` and `retrieve serve`: texts and pictures added
// and subtracted with optional weights, `"a red bicycle" + #42 - 0.5*"rain"` (rclip's arithmetic).
// This file only parses; ImageSearch+Query.swift turns a parsed query into one vector and searches.
// Grammar and examples: docs/serve.md ("The query language").
import Foundation

/// One part of a query: what to embed and how much it counts (negative: away from it).
public struct QueryTerm: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// Words, embedded by the text tower.
        case text(String)
        /// A picture already in the index, by row id (`#42`): its stored embedding, no decoding.
        case indexed(Int)
        /// A picture from outside the index (`@cat.jpg`, `@upload`): the caller says what the
        /// name means (the CLI reads a file, the server an uploaded picture), so the library never
        /// opens a path a request chose.
        case picture(String)
    }
    public var source: Source
    public var weight: Float

    public init(_ source: Source, weight: Float = 1) {
        self.source = source
        self.weight = weight
    }
}

/// A parsed query: at least one term.
public struct SearchQuery: Equatable, Sendable {
    public var terms: [QueryTerm]
    /// Longest query accepted, in characters, and most terms: a query is typed by a person.
    public static let maxLength = 2000, maxTerms = 32

    public init(terms: [QueryTerm]) {
        precondition(!terms.isEmpty, "SearchQuery: no terms")
        self.terms = terms
    }

    /// One text term of positive weight: searched as a plain caption, so its scores are on the
    /// scale the model's calibration measured.
    public var isOneCaption: Bool {
        guard terms.count == 1, terms[0].weight > 0, case .text = terms[0].source else { return false }
        return true
    }

    /// Parses `text`. Words with no operator are one text term, so a plain caption means what it
    /// always did. `+`, `-` or `−` are operators where a term may start (at the start, after a
    /// space or after a closing quote), so "t-shirt" stays a word.
    public init(parsing text: String) throws {
        var parser = QueryParser(Array(text))
        self.init(terms: try parser.parse())
    }

    /// The indexed pictures the query asks for more of (positive weight); results leave them out,
    /// since a user asking for more like #42 already has #42.
    public var positiveRows: Set<Int> {
        Set(terms.compactMap { term in
            if case .indexed(let id) = term.source, term.weight > 0 { return id }
            return nil
        })
    }
}

/// A query that cannot be read, with the character position (0-based) where reading stopped.
public struct QuerySyntaxError: Error, Equatable, CustomStringConvertible {
    public var problem: String
    public var position: Int
    public var description: String { "cannot read the query at character \(position + 1): \(problem)" }
}

/// Recursive descent over the characters; one term per call of `term()`.
struct QueryParser {
    let chars: [Character]
    var i = 0
    static let operators: Set<Character> = ["+", "-", "−"]
    static let quotes: [Character: Character] = ["\"": "\"", "“": "”", "«": "»"]

    init(_ chars: [Character]) { self.chars = chars }

    func fail(_ problem: String, at position: Int? = nil) -> QuerySyntaxError {
        QuerySyntaxError(problem: problem, position: position ?? i)
    }

    mutating func parse() throws -> [QueryTerm] {
        guard chars.count <= SearchQuery.maxLength else {
            throw fail("longer than \(SearchQuery.maxLength) characters", at: SearchQuery.maxLength)
        }
        var terms: [QueryTerm] = []
        skipSpaces()
        guard i < chars.count else { throw fail("the query is empty; type some words, #ID or @picture") }
        var sign: Float = 1
        if Self.operators.contains(chars[i]) { sign = chars[i] == "+" ? 1 : -1; i += 1 }
        while true {
            var term = try self.term()
            term.weight *= sign
            terms.append(term)
            guard terms.count <= SearchQuery.maxTerms else { throw fail("more than \(SearchQuery.maxTerms) terms") }
            skipSpaces()
            guard i < chars.count else { return terms }
            guard Self.operators.contains(chars[i]) else { throw fail("put + or - between two terms") }
            sign = chars[i] == "+" ? 1 : -1
            i += 1
        }
    }

    /// `[weight *] atom`, after an operator or at the start.
    mutating func term() throws -> QueryTerm {
        skipSpaces()
        guard i < chars.count, !Self.operators.contains(chars[i]) else {
            throw fail(i < chars.count ? "two operators in a row" : "an operator with nothing after it")
        }
        let start = i
        var weight: Float = 1
        if let w = try weightPrefix() { weight = w }
        skipSpaces()
        guard i < chars.count, !Self.operators.contains(chars[i]) else {
            throw fail("a weight must be followed by what it weighs", at: start)
        }
        return QueryTerm(try atom(), weight: weight)
    }

    /// `0.5*` or `2 ×` at the cursor (consumed), or nil with the cursor unmoved: a number
    /// without `*` is part of the text ("2 dogs").
    mutating func weightPrefix() throws -> Float? {
        var j = i
        while j < chars.count, chars[j].isASCII, chars[j].isNumber || chars[j] == "." { j += 1 }
        guard j > i else { return nil }
        var k = j
        while k < chars.count, chars[k] == " " { k += 1 }
        guard k < chars.count, chars[k] == "*" || chars[k] == "×" else { return nil }
        guard let w = Float(String(chars[i..<j])), w.isFinite, w > 0, w <= 1000 else {
            throw fail("a weight is a number above 0 and at most 1000, like 0.5*\"rain\"")
        }
        i = k + 1
        return w
    }

    mutating func atom() throws -> QueryTerm.Source {
        let c = chars[i]
        if let close = Self.quotes[c] {
            let open = i
            i += 1
            let start = i
            while i < chars.count, chars[i] != close { i += 1 }
            guard i < chars.count else { throw fail("the quote opened here is not closed", at: open) }
            let text = String(chars[start..<i]).trimmingCharacters(in: .whitespaces)
            i += 1
            guard !text.isEmpty else { throw fail("empty quotes", at: open) }
            return .text(text)
        }
        if c == "#" {
            let start = i
            i += 1
            let digits = start + 1
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            guard i > digits, atBoundary(), let id = Int(String(chars[digits..<i])) else {
                throw fail("# is followed by a picture's id, like #42", at: start)
            }
            return .indexed(id)
        }
        if c == "@" {
            let start = i
            i += 1
            if i < chars.count, Self.quotes[chars[i]] != nil, case .text(let name) = try atom() { return .picture(name) }
            let nameStart = i
            while i < chars.count, !chars[i].isWhitespace { i += 1 }
            guard i > nameStart else { throw fail("@ is followed by a picture, like @photos/cat.jpg", at: start) }
            return .picture(String(chars[nameStart..<i]))
        }
        // Bare words up to the next operator that stands where a term may start.
        let start = i
        while i < chars.count {
            if Self.operators.contains(chars[i]), i == start || chars[i - 1].isWhitespace { break }
            if Self.quotes[chars[i]] != nil || chars[i] == "#" && chars[i - 1].isWhitespace {
                throw fail("quote the words or put + or - before \(chars[i])")
            }
            i += 1
        }
        return .text(String(chars[start..<i]).trimmingCharacters(in: .whitespaces))
    }

    /// After a #id or a quoted text, only spaces and then an operator (or the end) may follow.
    func atBoundary() -> Bool {
        var j = i
        while j < chars.count, chars[j].isWhitespace { j += 1 }
        return j == chars.count || Self.operators.contains(chars[j])
    }

    mutating func skipSpaces() {
        while i < chars.count, chars[i].isWhitespace { i += 1 }
    }
}

extension SearchQuery: CustomStringConvertible {
    /// The query written back in the language, one way: `"red" + #3 - 0.5*@upload`.
    public var description: String {
        terms.enumerated().map { i, term in
            let magnitude = abs(term.weight)
            let weight = magnitude == 1 ? "" : "\(magnitude.formatted())*"
            let atom: String
            switch term.source {
            case .text(let t): atom = "\"\(t)\""
            case .indexed(let id): atom = "#\(id)"
            case .picture(let name): atom = name.contains(where: \.isWhitespace) ? "@\"\(name)\"" : "@\(name)"
            }
            let sign = term.weight < 0 ? (i == 0 ? "-" : " - ") : (i == 0 ? "" : " + ")
            return sign + weight + atom
        }.joined()
    }
}

private extension Float {
    /// "0.5", "2", "1.25": the shortest text that reads back as this weight.
    func formatted() -> String {
        self == rounded() && abs(self) < 1e6 ? String(Int(self)) : "\(self)"
    }
}
