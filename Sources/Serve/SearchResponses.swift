// The JSON the API answers with (snake_case on the wire, as docs/serve.md shows). Paths are
// relative to the indexed folder and names are file names only: the server never tells a
// client where on the machine the folder or the model lives.
import Foundation
import Search

struct ResultJSON: Encodable {
    let id: Int
    let rank: Int
    let path: String
    let score: Float
    /// P(match | score) at even odds, 0…1; null (written, not left out) without a calibration
    /// or for a query that is not one caption.
    let likelihood: Double?
    let thumbnail: String

    init(_ r: SearchResult, rank: Int) {
        id = r.row
        self.rank = rank
        path = r.path
        score = r.score
        likelihood = r.likelihood.map { ($0 * 1000).rounded() / 1000 }
        thumbnail = "/api/images/\(r.row)/thumbnail"
    }

    enum CodingKeys: String, CodingKey { case id, rank, path, score, likelihood, thumbnail }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(rank, forKey: .rank)
        try c.encode(path, forKey: .path)
        try c.encode(score, forKey: .score)
        try c.encode(likelihood, forKey: .likelihood)
        try c.encode(thumbnail, forKey: .thumbnail)
    }
}

struct TermJSON: Encodable {
    let kind: String
    let weight: Float
    var text: String? = nil
    var id: Int? = nil
    var unknown_words: [String]? = nil
}

struct SearchJSON: Encodable {
    let query: String
    let terms: [TermJSON]
    let unknown_words: [String]
    let results: [ResultJSON]
    let offset: Int
    let k: Int
    let has_more: Bool
    /// Results of this page left out as less than `min_likelihood` likely to match (0 with `all`).
    let below_cut: Int
    /// The cut applied: 0.5 for a caption query of a calibrated model unless `all`; else null.
    let min_likelihood: Double?
    let dedup: Bool
    let took_ms: Double

    enum CodingKeys: String, CodingKey {
        case query, terms, unknown_words, results, offset, k, has_more, below_cut, min_likelihood, dedup, took_ms
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(query, forKey: .query)
        try c.encode(terms, forKey: .terms)
        try c.encode(unknown_words, forKey: .unknown_words)
        try c.encode(results, forKey: .results)
        try c.encode(offset, forKey: .offset)
        try c.encode(k, forKey: .k)
        try c.encode(has_more, forKey: .has_more)
        try c.encode(below_cut, forKey: .below_cut)
        try c.encode(min_likelihood, forKey: .min_likelihood)
        try c.encode(dedup, forKey: .dedup)
        try c.encode(took_ms, forKey: .took_ms)
    }
}

struct PictureJSON: Encodable {
    let id: Int
    let path: String
    let size: UInt64
    let modified: String
    let thumbnail: String
}

struct IndexJSON: Encodable {
    struct Model: Encodable {
        let file: String
        let fingerprint: String
        let vocabulary: Int
        let input_size: Int
        let dimension: Int
        /// The validation split the likelihoods were calibrated on; null without a calibration.
        let calibration: Calibration?

        struct Calibration: Encodable {
            let pictures: Int
            let captions: Int
            let prior: Double
            let min_likelihood: Double
        }

        enum CodingKeys: String, CodingKey { case file, fingerprint, vocabulary, input_size, dimension, calibration }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file, forKey: .file)
            try c.encode(fingerprint, forKey: .fingerprint)
            try c.encode(vocabulary, forKey: .vocabulary)
            try c.encode(input_size, forKey: .input_size)
            try c.encode(dimension, forKey: .dimension)
            try c.encode(calibration, forKey: .calibration)
        }
    }
    let folder: String
    let rows: Int
    let rejected: Int
    let storage: String
    let built: String?
    let model: Model
    let dedup_default: Bool
    let limits: [String: Int]
}

struct HealthJSON: Encodable {
    let status: String
    let rows: Int
}

enum Timestamp {
    /// ISO 8601 in UTC, to the second.
    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
