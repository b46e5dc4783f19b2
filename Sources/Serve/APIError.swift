// Every failure the API reports: a status that means something and a JSON body
// `{"error": {"status", "code", "message", "words"?}}`. Library errors (the query language, unknown
// words, unreadable uploads) map here, so a handler only throws.
import Foundation
import Hummingbird
import Search
import Vision

struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    /// A stable word for scripts: bad_request, not_found, too_large, unknown_words, …
    var code: String
    var message: String
    /// The unknown words of a query none of whose words the model knows.
    var words: [String]? = nil

    var description: String { "\(status.code) \(code): \(message)" }

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorBody(error: .init(status: status.code, code: code, message: message, words: words))
        return JSONResponse.response(body, status: status)
    }

    /// The API's reading of an error thrown while answering.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as QuerySyntaxError:
            return APIError(status: .badRequest, code: "bad_query", message: e.description)
        case let e as QueryError:
            if case .unknownPicture = e { return APIError(status: .notFound, code: "unknown_id", message: e.description) }
            return APIError(status: .badRequest, code: "bad_query", message: e.description)
        case SearchError.onlyUnknownWords(let query, let words):
            return APIError(status: .unprocessableContent, code: "unknown_words",
                            message: SearchError.onlyUnknownWords(query: query, words: words).description, words: words)
        case let e as ImageError:
            if case .tooLarge = e.kind {
                return APIError(status: .contentTooLarge, code: "too_many_pixels", message: "the uploaded picture is too large: \(e.problem)")
            }
            return APIError(status: .badRequest, code: "bad_picture", message: "the uploaded picture cannot be read: \(e.problem)")
        case let e as HTTPError:
            let code = e.status == .contentTooLarge ? "too_large" : e.status == .notFound ? "not_found" : "http_\(e.status.code)"
            return APIError(status: e.status, code: code, message: e.body ?? e.status.reasonPhrase)
        case let e as any HTTPResponseError where e.status == .contentTooLarge:
            return APIError(status: .contentTooLarge, code: "too_large", message: "the request body is too large")
        default:
            return APIError(status: .internalServerError, code: "internal", message: "\(error)")
        }
    }
}

private struct ErrorBody: Encodable {
    struct Detail: Encodable { let status: Int; let code: String; let message: String; let words: [String]? }
    let error: Detail
}

/// JSON responses with the same encoder everywhere: sorted keys, slashes left alone.
enum JSONResponse {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal","message":"encoding failed","status":500}}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
