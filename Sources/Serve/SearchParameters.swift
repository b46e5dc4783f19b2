// The knobs of one search request, read from the query string (GET, or POST with a picture body)
// or from a JSON body, checked against the server's bounds. Anything unknown or out of range is
// a 400 that names the parameter, so a typo ("min-score") is not silently ignored.
import Foundation
import Hummingbird
import Retrieval
import Search

struct SearchParameters: Equatable {
    var query: String? = nil
    var k = 20
    var offset = 0
    var minScore: Float? = nil
    var dedup: Bool
    var exact = false
    /// Every result of the page, also those less than 50% likely to match (which are cut by default).
    var all = false
    /// Where the cut-off falls (default `ScoreCalibration.likelyThreshold`); not with `all`.
    var minLikelihood: Double? = nil
    /// A picture carried in a JSON body (base64), decoded later.
    var picture: Data? = nil

    static let names: Set<String> = ["q", "k", "offset", "min_score", "dedup", "exact", "all", "min_likelihood"]

    /// From `?q=…&k=…&offset=…&min_score=…&dedup=…&exact=…&all=…&min_likelihood=…`.
    init(queryString parameters: [(String, String)], configuration: ServeConfiguration) throws {
        dedup = configuration.dedup
        var seen = Set<String>()
        for (name, value) in parameters {
            guard Self.names.contains(name) else {
                throw APIError.badRequest("unknown parameter \"\(name)\"; known: \(Self.names.sorted().joined(separator: ", "))")
            }
            guard seen.insert(name).inserted else { throw APIError.badRequest("\"\(name)\" given twice") }
            switch name {
            case "q": query = value
            case "k": k = try Self.integer(value, name)
            case "offset": offset = try Self.integer(value, name)
            case "min_score": minScore = try Self.score(value)
            case "dedup": dedup = try Self.flag(value, name)
            case "all": all = try Self.flag(value, name)
            case "min_likelihood": minLikelihood = try Self.likelihood(value)
            default: exact = try Self.flag(value, name)
            }
        }
        try check(configuration)
    }

    /// From a JSON object with the same names, plus "picture": base64 PNG or JPEG bytes.
    init(json data: ByteBuffer, configuration: ServeConfiguration) throws {
        dedup = configuration.dedup
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(data.readableBytesView)) else {
            throw APIError.badRequest("the body is not a JSON object (send {\"q\": \"a red circle\"})")
        }
        for (name, value) in object {
            switch (name, value) {
            case ("q", .string(let v)): query = v
            case ("k", .number(let v)): k = try Self.integer(v, name)
            case ("offset", .number(let v)): offset = try Self.integer(v, name)
            case ("min_score", .number(let v)): minScore = try Self.score(String(v))
            case ("dedup", .bool(let v)): dedup = v
            case ("exact", .bool(let v)): exact = v
            case ("all", .bool(let v)): all = v
            case ("min_likelihood", .number(let v)): minLikelihood = try Self.likelihood(String(v))
            case ("picture", .string(let v)):
                guard let bytes = Data(base64Encoded: v, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
                    throw APIError.badRequest("\"picture\" is not base64 of a PNG or JPEG file")
                }
                picture = bytes
            case (_, .null) where name != "picture" && Self.names.contains(name):
                continue
            case ("q", _), ("picture", _):
                throw APIError.badRequest("\"\(name)\" must be a string")
            case ("dedup", _), ("exact", _), ("all", _):
                throw APIError.badRequest("\"\(name)\" must be true or false")
            case ("k", _), ("offset", _), ("min_score", _), ("min_likelihood", _):
                throw APIError.badRequest("\"\(name)\" must be a number")
            default:
                throw APIError.badRequest("unknown field \"\(name)\"; known: \(Self.names.union(["picture"]).sorted().joined(separator: ", "))")
            }
        }
        try check(configuration)
    }

    var options: SearchOptions {
        var o = SearchOptions()
        o.k = k
        o.minScore = minScore
        o.dedup = dedup
        o.exact = exact
        o.cutLikelihood(all: all, asked: minLikelihood)
        return o
    }

    private func check(_ configuration: ServeConfiguration) throws {
        if all, minLikelihood != nil { throw APIError.badRequest("give all or min_likelihood, not both") }
        guard (1...configuration.maxK).contains(k) else { throw APIError.badRequest("k must be from 1 to \(configuration.maxK), got \(k)") }
        guard (0...configuration.maxOffset).contains(offset) else {
            throw APIError.badRequest("offset must be from 0 to \(configuration.maxOffset), got \(offset)")
        }
    }

    private static func integer(_ value: String, _ name: String) throws -> Int {
        guard let n = Int(value) else { throw APIError.badRequest("\(name) must be a whole number, got \"\(value)\"") }
        return n
    }

    private static func score(_ value: String) throws -> Float {
        guard let s = Float(value), s.isFinite, (-1...1).contains(s) else {
            throw APIError.badRequest("min_score is a cosine from -1 to 1, got \"\(value)\"")
        }
        return s
    }

    private static func likelihood(_ value: String) throws -> Double {
        guard let p = Double(value), p.isFinite, p > 0, p <= 1 else {
            throw APIError.badRequest("min_likelihood is a probability above 0 and at most 1, got \"\(value)\"")
        }
        return p
    }

    private static func flag(_ value: String, _ name: String) throws -> Bool {
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw APIError.badRequest("\(name) must be true or false, got \"\(value)\"")
        }
    }

    private static func integer(_ value: Double, _ name: String) throws -> Int {
        guard value == value.rounded(), abs(value) < 1e9 else { throw APIError.badRequest("\(name) must be a whole number, got \(value)") }
        return Int(value)
    }
}

/// A JSON value, enough to tell a string from a number from a boolean without Foundation's bridging.
enum JSONValue: Decodable {
    case string(String), number(Double), bool(Bool), null, other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { self = .other }
    }
}
