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
    let thumbnail: String

    init(_ r: SearchResult, rank: Int) {
        id = r.row
        self.rank = rank
        path = r.path
        score = r.score
        thumbnail = "/api/images/\(r.row)/thumbnail"
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
    let dedup: Bool
    let took_ms: Double
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
