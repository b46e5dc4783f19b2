// What the routes do, without HTTP: answer a search (text, #id, an uploaded picture, or their
// combination), describe the index and one picture, and make thumbnails. One instance serves
// every request at once: ImageSearch is safe from several threads (ConcurrentSearchTests), the
// rest is immutable but for the thumbnail cache, which locks.
import Foundation
import Retrieval
import Search
import Vision

final class SearchService: @unchecked Sendable {
    let search: ImageSearch
    let configuration: ServeConfiguration
    let pictures: IndexedPictures
    let thumbnails: ThumbnailCache
    /// When the index file was last written.
    let built: Date?

    /// The name an uploaded picture goes by in the query language.
    static let uploadName = "upload"

    init(search: ImageSearch, configuration: ServeConfiguration) {
        self.search = search
        self.configuration = configuration
        pictures = IndexedPictures(search: search)
        thumbnails = ThumbnailCache(capacity: configuration.thumbnailCacheBytes)
        built = (try? FileManager.default.attributesOfItem(atPath: search.indexFile.path))?[.modificationDate] as? Date
    }

    /// One page of results. `upload` is the picture sent with the request, if any: `@upload` in
    /// the query, or added to it with weight 1 when the query does not mention it.
    func answer(_ parameters: SearchParameters, upload: Data?) throws -> SearchJSON {
        let started = DispatchTime.now().uptimeNanoseconds
        let query = try self.query(parameters.query, hasUpload: upload != nil)
        var decoded: RGBImage? = nil
        let answer = try search.search(query: query, options: parameters.options, offset: parameters.offset) { name in
            if let decoded { return decoded }
            guard name == Self.uploadName, let upload else { throw APIError.badRequest("no picture was uploaded for @\(name)") }
            let image = try RGBImage(decoding: upload, maxPixels: configuration.maxUploadPixels,
                                     minimumShortSide: search.pictureShortSide, source: "upload")
            guard image.width > 0, image.height > 0 else { throw APIError.badRequest("the uploaded picture has no pixels") }
            decoded = image
            return image
        }
        let unknown = Dictionary(answer.unknownWords.map { ($0.text, $0.words) }, uniquingKeysWith: { a, _ in a })
        let terms = query.terms.map { term -> TermJSON in
            switch term.source {
            case .text(let t): return TermJSON(kind: "text", weight: term.weight, text: t, unknown_words: unknown[t] ?? [])
            case .indexed(let id): return TermJSON(kind: "picture", weight: term.weight, id: id)
            case .picture: return TermJSON(kind: "upload", weight: term.weight)
            }
        }
        var allUnknown: [String] = []
        for (_, words) in answer.unknownWords { for w in words where !allUnknown.contains(w) { allUnknown.append(w) } }
        let took = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        return SearchJSON(query: query.description, terms: terms, unknown_words: allUnknown,
                          results: answer.results.enumerated().map { ResultJSON($1, rank: parameters.offset + $0 + 1) },
                          offset: parameters.offset, k: parameters.k, has_more: answer.hasMore,
                          below_cut: answer.belowCut,
                          min_likelihood: search.calibration != nil && query.isOneCaption ? parameters.options.minLikelihood : nil,
                          dedup: parameters.dedup, took_ms: (took * 100).rounded() / 100)
    }

    /// The parsed query, with the upload joined in; `@name` must be the upload, never a path.
    func query(_ text: String?, hasUpload: Bool) throws -> SearchQuery {
        let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.isEmpty {
            guard hasUpload else { throw APIError.badRequest("give q (words, #ID, or both with + and -) or upload a picture") }
            return SearchQuery(terms: [QueryTerm(.picture(Self.uploadName))])
        }
        var query = try SearchQuery(parsing: trimmed)
        var mentionsUpload = false
        for term in query.terms {
            guard case .picture(let name) = term.source else { continue }
            guard name == Self.uploadName, hasUpload else {
                throw APIError.badRequest("the server reads no files by path (@\(name)): upload the picture as the request body and write @upload, or use #ID for an indexed picture")
            }
            mentionsUpload = true
        }
        if hasUpload, !mentionsUpload {
            guard query.terms.count < SearchQuery.maxTerms else { throw APIError.badRequest("more than \(SearchQuery.maxTerms) terms") }
            query.terms.append(QueryTerm(.picture(Self.uploadName)))
        }
        return query
    }

    var index: IndexJSON {
        let model = search.model.configuration
        return IndexJSON(folder: search.root.lastPathComponent, rows: search.index.count,
                         rejected: search.index.rejectedCount, storage: search.index.kindDescription,
                         built: built.map(Timestamp.iso),
                         model: .init(file: search.modelFile.lastPathComponent, fingerprint: search.index.modelFingerprint,
                                      vocabulary: search.model.vocabulary.count, input_size: model.imageSize,
                                      dimension: model.embeddingDimension,
                                      calibration: search.calibration.map {
                                          .init(pictures: $0.pictures, captions: $0.captions, prior: ScoreCalibration.prior,
                                                min_likelihood: ScoreCalibration.likelyThreshold)
                                      }),
                         dedup_default: configuration.dedup,
                         limits: ["max_body_bytes": configuration.maxBodyBytes, "max_upload_pixels": configuration.maxUploadPixels,
                                  "max_k": configuration.maxK, "max_offset": configuration.maxOffset,
                                  "max_query_characters": SearchQuery.maxLength])
    }

    func picture(_ id: Int) throws -> PictureJSON {
        let file = try pictures.file(id)
        return PictureJSON(id: id, path: file.path, size: file.size,
                           modified: Timestamp.iso(Date(timeIntervalSince1970: Double(file.modified) / 1e9)),
                           thumbnail: "/api/images/\(id)/thumbnail")
    }

    /// The smallest served size at least `requested`; 400 outside 1 … the largest.
    func thumbnailSize(_ requested: Int) throws -> Int {
        guard requested >= 1, let size = configuration.thumbnailSizes.sorted().first(where: { $0 >= requested }) else {
            throw APIError.badRequest("size must be from 1 to \(configuration.thumbnailSizes.max() ?? 0), got \(requested)")
        }
        return size
    }

    /// A JPEG of row `id`'s picture fitting in size×size (never enlarged), and its entity tag.
    func thumbnail(_ id: Int, size: Int) throws -> (jpeg: Data, etag: String) {
        let file = try pictures.file(id)
        let etag = "\"\(String(file.contentHash, radix: 16))-\(size)\""
        let key = ThumbnailCache.Key(id: id, size: size)
        if let cached = thumbnails.get(key) { return (cached, etag) }
        let data = try pictures.bytes(id)
        let image: RGBImage
        do {
            image = try RGBImage(decoding: data, minimumShortSide: size, source: file.path)
        } catch let e as ImageError {
            throw APIError(status: .notFound, code: "gone", message: "picture #\(id) cannot be decoded any more: \(e.problem)")
        }
        let scale = min(1, Double(size) / Double(max(image.width, image.height)))
        let fitted = scale >= 1 ? image : image.resized(width: max(1, Int((Double(image.width) * scale).rounded())),
                                                        height: max(1, Int((Double(image.height) * scale).rounded())))
        let jpeg = try fitted.encoded(as: .jpeg, quality: 85)
        thumbnails.put(key, jpeg)
        return (jpeg, etag)
    }
}
