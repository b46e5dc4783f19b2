// The search API an app uses: open an index (rows memory-mapped), load the model it was built
// with (refused when its fingerprint differs), and answer text or image queries with paths and
// scores. One query scans the rows (SIMD, both cores); many queries go through GEMM blocks.
import CKernels
import Foundation
import Neural
import Text
import Retrieval
import VectorIndex

/// One result: a file of the indexed folder and its cosine score.
public struct SearchResult: Sendable, Equatable {
    /// Relative to the indexed folder.
    public var path: String
    /// The file itself; for a tar member, "SHARD.tar/KEY.ext" under the index's folder (a path
    /// to show, not to open: `archive` holds the bytes).
    public var url: URL
    public var score: Float
    /// Row id in the index.
    public var row: Int
    /// How likely the picture is a match for a caption query (`ScoreCalibration`); nil when
    /// the model has no calibration or the query was not one caption.
    public var likelihood: Double? = nil
    /// For a tar member, the shard that holds its bytes and where they lie in it.
    public var archive: URL? = nil
    public var member: ArchiveMember? = nil
    /// The picture's bytes (the member's, for a tar member).
    public var size: UInt64 = 0

    public init(path: String, url: URL, score: Float, row: Int, likelihood: Double? = nil) {
        self.path = path
        self.url = url
        self.score = score
        self.row = row
        self.likelihood = likelihood
    }
}

/// Knobs of a search.
public struct SearchOptions: Sendable {
    public var k = 10
    /// Results scoring below this are dropped.
    public var minScore: Float? = nil
    /// Fold near-identical results (same bytes, or cosine between their embeddings above `dedupCosine`).
    public var dedup = false
    public var dedupCosine: Float = 0.98
    /// Scan every row even when the index is approximate.
    public var exact = false
    /// IVF lists probed per query (default: the index's).
    public var nprobe: Int? = nil
    /// Graph search beam (default: the index's); wider finds more of the true top k, slower.
    public var ef: Int? = nil
    /// Caption queries stop at the first result less likely than this to match (nil: no cut;
    /// no effect without a calibrated model).
    public var minLikelihood: Double? = nil
    public init() {}

    /// Sets the cut as the CLI and the API take it: none with `all`, else `asked` or the
    /// default `ScoreCalibration.likelyThreshold`.
    public mutating func cutLikelihood(all: Bool, asked: Double?) {
        minLikelihood = all ? nil : asked ?? ScoreCalibration.likelyThreshold
    }
}

/// An opened index (one file, or the shards of a manifest) with its model.
public final class ImageSearch {
    /// The index file or manifest opened.
    public let indexFile: URL
    /// The rows searched: every shard of a manifest (or the shards given), or one index file.
    public let index: ShardedIndex
    /// The indexed folder.
    public let root: URL
    public let model: DualEncoder
    public let modelFile: URL

    /// Opens `indexFile` — an index file, or a sharded index's manifest and its shards (only
    /// `shards` when given: a rank of a distributed search) — with every checksum checked, rows
    /// included, and the model it records (or `modelFile`), checking the fingerprint.
    public init(indexFile: URL, modelFile: URL? = nil, shards: Set<Int>? = nil) throws {
        self.indexFile = indexFile
        index = try ShardedIndex.open(indexFile, only: shards)
        root = index.root
        let modelURL = modelFile ?? URL(fileURLWithPath: index.modelPath)
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            throw SearchError.modelMissing(index: indexFile.path, model: modelURL.path)
        }
        let (model, fingerprint) = try ModelFile.read(from: modelURL)
        guard fingerprint == index.modelFingerprint else {
            throw SearchError.modelMismatch(index: indexFile.path, model: modelURL.path,
                                            expected: index.modelFingerprint, found: fingerprint)
        }
        guard index.parts.isEmpty || model.configuration.embeddingDimension == index.dimension else {
            throw SearchError.dimensionMismatch(index: indexFile.path, indexDimension: index.dimension,
                                                modelDimension: model.configuration.embeddingDimension)
        }
        self.model = model
        self.modelFile = modelURL
    }

    /// Text embeddings (q, d) and each query's unknown words; a query that cannot be searched
    /// (`problem(with:)`) throws.
    public func embed(texts: [String]) throws -> (embeddings: Tensor, unknownWords: [[String]]) {
        for text in texts {
            if let problem = problem(with: text) { throw problem }
        }
        return model.embedTexts(texts)
    }

    /// Why `text` cannot be searched, or nil: it has no word the model knows, or the words it
    /// knows are only words like "a" or "of" that describe no picture ("a zebra" to a model
    /// that never saw "zebra" would otherwise search for "a" and rank pictures by noise).
    public func problem(with text: String) -> SearchError? {
        let encoded = model.vocabulary.encode(text, maxLength: model.configuration.maxTokens)
        let known = encoded.ids.prefix(encoded.length).filter { $0 != Vocabulary.unknownID }
            .compactMap { model.vocabulary.word(of: $0) }
        if known.isEmpty { return .onlyUnknownWords(query: text, words: encoded.unknownWords) }
        if known.allSatisfy(Self.functionWords.contains) {
            return .onlyFunctionWords(query: text, known: Array(Set(known)).sorted(), unknown: encoded.unknownWords)
        }
        return nil
    }

    /// Words that carry no description of a picture on their own.
    static let functionWords: Set<String> = ["a", "an", "the", "of", "and", "or", "with", "in", "on", "at", "to",
                                             "is", "are", "it", "its", "this", "that", "some", "for", "by", "as"]

    /// One query's answer in a batch: its results, or why it could not be searched.
    public struct TextAnswer: Sendable {
        public var query: String
        public var results: [SearchResult]
        /// Words of the query the model does not know (searched without them).
        public var unknownWords: [String]
        /// Set when the query was not searched (no known word, or only words like "a").
        public var problem: SearchError?
        /// Results of the k left out as less likely than `SearchOptions.minLikelihood`.
        public var belowCut = 0

        public init(query: String, results: [SearchResult], unknownWords: [String], problem: SearchError?) {
            self.query = query
            self.results = results
            self.unknownWords = unknownWords
            self.problem = problem
        }
    }

    /// Answers every query that can be searched and says why for the others, in order: one bad
    /// line in a batch costs that line, not the batch.
    public func answer(texts: [String], options: SearchOptions = SearchOptions()) -> [TextAnswer] {
        // The closure cannot throw: it is the model's own embedding.
        (try? answer(texts: texts, options: options, embedding: { model.embedTexts($0).embeddings }))!
    }

    /// `answer(texts:options:)` with the embeddings of the searchable texts from `embedding`
    /// (the same rows the model gives, say computed once by another process and sent here).
    public func answer(texts: [String], options: SearchOptions = SearchOptions(),
                       embedding: ([String]) throws -> Tensor) rethrows -> [TextAnswer] {
        let problems = texts.map(problem(with:))
        let good = texts.indices.filter { problems[$0] == nil }
        var answers = texts.indices.map { TextAnswer(query: texts[$0], results: [], unknownWords: [], problem: problems[$0]) }
        guard !good.isEmpty else { return answers }
        let queries = try embedding(good.map { texts[$0] })
        let unknown = good.map { model.vocabulary.encode(texts[$0], maxLength: model.configuration.maxTokens).unknownWords }
        for (row, results) in search(embeddings: queries, options: options).enumerated() {
            (answers[good[row]].results, answers[good[row]].belowCut) = likely(results, options.minLikelihood)
            answers[good[row]].unknownWords = unknown[row]
        }
        return answers
    }

    /// Image embeddings (q, d) of picture files, preprocessed as when indexing.
    public func embed(imageFiles: [URL]) throws -> Tensor {
        let preprocessing = model.configuration.preprocessing
        return model.embedImages(preprocessing.batch(try imageFiles.map { try preprocessing.square(contentsOf: $0) }))
    }

    /// Results per text query, best first, and the words of each the model does not know.
    public func search(texts: [String], options: SearchOptions = SearchOptions()) throws
        -> (results: [[SearchResult]], unknownWords: [[String]]) {
        let (queries, unknown) = try embed(texts: texts)
        return (search(embeddings: queries, options: options).map { likely($0, options.minLikelihood).kept }, unknown)
    }

    /// Results per picture query (image → image), best first.
    public func search(imageFiles: [URL], options: SearchOptions = SearchOptions()) throws -> [[SearchResult]] {
        search(embeddings: try embed(imageFiles: imageFiles), options: options)
    }

    /// Results per row of (q, d) unit query embeddings: every shard searched, merged exactly
    /// (score descending, then path).
    public func search(embeddings queries: Tensor, options: SearchOptions = SearchOptions()) -> [[SearchResult]] {
        precondition(queries.rank == 2 && queries.shape[1] == model.configuration.embeddingDimension,
                     "ImageSearch: queries \(queries.shape), index dimension \(index.dimension)")
        let fetch = options.dedup ? min(index.count, options.k * 4 + 8) : options.k
        return index.search(queries, k: fetch, options: options).map { list in
            var kept = list.filter { options.minScore == nil || $0.score >= options.minScore! }
            if options.dedup { kept = fold(kept, cosine: options.dedupCosine) }
            return kept.prefix(options.k).map(result)
        }
    }

    /// A search result for global id `hit.id`.
    private func result(_ hit: SearchHit) -> SearchResult {
        let file = index.file(hit.id)
        var result = SearchResult(path: file.path, url: root.appendingPathComponent(file.path), score: hit.score, row: hit.id)
        if let archive = file.archivePath { result.archive = root.appendingPathComponent(archive) }
        result.member = file.member
        result.size = file.size
        return result
    }

    /// Drops each hit whose bytes equal, or whose embedding nearly equals, a better hit's.
    private func fold(_ hits: [SearchHit], cosine: Float) -> [SearchHit] {
        let d = index.dimension
        let rows = index.rows(hits.map(\.id))
        var kept: [Int] = []  // positions in hits
        var hashes = Set<UInt64>()
        for (i, hit) in hits.enumerated() {
            let hash = index.file(hit.id).contentHash
            if hashes.contains(hash) { continue }
            let near = rows.withUnsafeBufferPointer { r in
                kept.contains { j in rk_dot(r.baseAddress! + i * d, r.baseAddress! + j * d, d) > cosine }
            }
            if near { continue }
            kept.append(i)
            hashes.insert(hash)
        }
        return kept.map { hits[$0] }
    }
}
