// Answering a SearchQuery: every term embedded (texts in one batch, indexed pictures from their
// stored rows, outside pictures through the model's preprocessing), summed with their weights
// into one unit vector, and searched with offset/limit paging. Used by the CLI and the server.
import Foundation
import Neural
import Vision

/// A query that parses but cannot be answered.
public enum QueryError: Error, Equatable, CustomStringConvertible {
    /// `#id` names no row of the index.
    case unknownPicture(id: Int, rows: Int)
    /// The weighted terms add up to (almost) nothing, e.g. `"red" - "red"`.
    case cancelsOut

    public var description: String {
        switch self {
        case .unknownPicture(let id, let rows):
            return "#\(id) is not a picture of this index (ids run from 0 to \(rows - 1))"
        case .cancelsOut:
            return "the terms of the query cancel each other out; change a weight or a sign"
        }
    }
}

/// One page of results for a query, and what the model made of its words.
public struct QueryAnswer: Sendable {
    public var results: [SearchResult]
    /// Unknown words of each text term that had some (text, words); the others were searched.
    public var unknownWords: [(text: String, words: [String])]
    /// More results exist past this page (within `minScore`, and the likelihood cut).
    public var hasMore: Bool
    /// Results of this page left out as less likely than `SearchOptions.minLikelihood`.
    public var belowCut = 0
    /// The unit query vector (d), for callers that search on with it.
    public var embedding: [Float]
}

extension ImageSearch {
    /// The query as one unit vector (d) and the unknown words of its text terms. `picture(name)`
    /// gives the picture an `@name` term stands for, decoded with a short side of at least the
    /// model's input (as indexing decodes: `pictureShortSide`); throwing there fails the query.
    public func embed(query: SearchQuery, picture: (String) throws -> RGBImage) throws
        -> (embedding: [Float], unknownWords: [(text: String, words: [String])]) {
        let d = index.dimension
        var sum = [Float](repeating: 0, count: d)
        func add(_ row: ArraySlice<Float>, _ weight: Float) {
            for (j, x) in zip(0..<d, row) { sum[j] += weight * x }
        }
        let texts = query.terms.compactMap { if case .text(let t) = $0.source { return t } else { return nil } }
        var unknown: [(String, [String])] = []
        var textRows: Tensor? = nil
        if !texts.isEmpty {
            let (rows, words) = try embed(texts: texts)
            textRows = rows
            unknown = zip(texts, words).filter { !$0.1.isEmpty }
        }
        var textIndex = 0
        var pictures: [(RGBImage, Float)] = []
        for term in query.terms {
            switch term.source {
            case .text:
                add(textRows!.data[textIndex * d..<(textIndex + 1) * d], term.weight)
                textIndex += 1
            case .indexed(let id):
                guard id >= 0, id < index.count, index.locate(id) != nil else {
                    throw QueryError.unknownPicture(id: id, rows: index.count)
                }
                add(index.rows([id]).data[...], term.weight)
            case .picture(let name):
                pictures.append((model.configuration.preprocessing.square(try picture(name)), term.weight))
            }
        }
        if !pictures.isEmpty {
            let rows = model.embedImages(model.configuration.preprocessing.batch(pictures.map(\.0)))
            for (i, (_, weight)) in pictures.enumerated() { add(rows.data[i * d..<(i + 1) * d], weight) }
        }
        // One term of positive weight is searched with its own unit vector, bit for bit as before.
        if query.isOneCaption {
            return (Array(textRows!.data[0..<d]), unknown)
        }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 1e-4 else { throw QueryError.cancelsOut }
        return (sum.map { $0 / norm }, unknown)
    }

    /// Results `offset ..< offset + options.k` for `query`, best first, without the indexed
    /// pictures the query asks for more of. `picture` as for `embed(query:picture:)`.
    public func search(query: SearchQuery, options: SearchOptions = SearchOptions(), offset: Int = 0,
                       picture: (String) throws -> RGBImage) throws -> QueryAnswer {
        precondition(offset >= 0 && options.k > 0, "ImageSearch.search: offset \(offset), k \(options.k)")
        let (vector, unknown) = try embed(query: query, picture: picture)
        let excluded = query.positiveRows
        var wide = options
        wide.k = offset + options.k + 1 + excluded.count
        var hits = search(embeddings: Tensor(shape: [1, vector.count], data: vector), options: wide)[0]
            .filter { !excluded.contains($0.row) }
        let window = min(options.k, max(0, hits.count - offset))
        if query.isOneCaption { hits = likely(hits, options.minLikelihood).kept }
        let page = Array(hits.dropFirst(offset).prefix(options.k))
        return QueryAnswer(results: page, unknownWords: unknown, hasMore: hits.count > offset + options.k,
                           belowCut: window - page.count, embedding: vector)
    }

    /// The shorter side to decode an outside picture at, as indexing does (JPEGs decode smaller).
    public var pictureShortSide: Int { model.configuration.preprocessing.side }

    /// The CLI's form: `@name` pictures are files (relative to the current folder), the answer
    /// shaped as `search(texts:)`'s for one query (its unknown words in one list).
    public func search(query text: String, options: SearchOptions = SearchOptions()) throws
        -> (results: [[SearchResult]], unknownWords: [[String]]) {
        let answer = try answer(query: text, options: options)
        return ([answer.results], [answer.unknownWords])
    }

    /// The CLI's form as a batch line's answer: results, unknown words, and how many fell below
    /// the likelihood cut.
    public func answer(query text: String, options: SearchOptions = SearchOptions()) throws -> TextAnswer {
        let answer = try search(query: SearchQuery(parsing: text), options: options) { name in
            try RGBImage(contentsOf: URL(fileURLWithPath: name), minimumShortSide: pictureShortSide)
        }
        var result = TextAnswer(query: text, results: answer.results, unknownWords: answer.unknownWords.flatMap(\.words),
                                problem: nil)
        result.belowCut = answer.belowCut
        return result
    }
}
