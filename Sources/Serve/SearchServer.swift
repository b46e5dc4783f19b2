// The server: Hummingbird's router with the API and page routes over one SearchService, bound to
// the configured address. `run` answers until SIGINT or SIGTERM, then stops accepting and lets
// the requests in flight finish. `application` is the same server for tests to drive.
import Foundation
import Hummingbird
import Logging
import Search

public struct SearchServer: Sendable {
    let service: SearchService

    /// Serves `search` with `configuration`'s address and bounds.
    public init(search: ImageSearch, configuration: ServeConfiguration = ServeConfiguration()) {
        service = SearchService(search: search, configuration: configuration)
    }

    public var configuration: ServeConfiguration { service.configuration }

    /// Answers until SIGINT or SIGTERM; `onStart` gets the URL once the socket listens (with the
    /// port the system chose when asked for 0). Returns after a clean stop.
    public func run(onStart: @escaping @Sendable (URL) -> Void) async throws {
        try await application(onStart: onStart).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// The Hummingbird application, not yet running (`runService`, or HummingbirdTesting's `test`).
    public func application(onStart: @escaping @Sendable (URL) -> Void = { _ in }) -> some ApplicationProtocol {
        let host = configuration.host
        var logger = Logger(label: "retrieve.serve")
        logger.logLevel = .error
        return Application(router: router(),
                           configuration: .init(address: .hostname(host, port: configuration.port), serverName: "retrieve"),
                           onServerRunning: { channel in
                               let port = channel.localAddress?.port ?? 0
                               let shown = host.contains(":") ? "[\(host)]" : host
                               onStart(URL(string: "http://\(shown):\(port)/")!)
                           },
                           logger: logger)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        let service = self.service
        let configuration = self.configuration
        router.add(middleware: GuardMiddleware(maxURILength: configuration.maxURILength, maxBodyBytes: configuration.maxBodyBytes))
        PageRoutes.add(to: router)
        router.get("/healthz") { _, _ in
            JSONResponse.response(HealthJSON(status: "ok", rows: service.search.index.count))
        }
        router.get("/api/index") { _, _ in JSONResponse.response(service.index) }
        router.get("/api/search") { request, _ in
            let parameters = try SearchParameters(queryString: try QueryString.pairs(request.uri.query),
                                                  configuration: configuration)
            return JSONResponse.response(try service.answer(parameters, upload: nil))
        }
        router.post("/api/search") { request, _ in
            let body = try await request.body.collect(upTo: configuration.maxBodyBytes)
            let type = request.headers[.contentType]?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
            if type == "application/json" {
                guard request.uri.query?.isEmpty ?? true else {
                    throw APIError.badRequest("with a JSON body, give every parameter in the body, not the query string")
                }
                let parameters = try SearchParameters(json: body, configuration: configuration)
                return JSONResponse.response(try service.answer(parameters, upload: parameters.picture))
            }
            guard ["image/png", "image/jpeg", "application/octet-stream"].contains(type) else {
                throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                               message: "send application/json, or the picture itself as image/png or image/jpeg")
            }
            guard body.readableBytes > 0 else { throw APIError.badRequest("the body is empty: send the picture's bytes") }
            let parameters = try SearchParameters(queryString: try QueryString.pairs(request.uri.query),
                                                  configuration: configuration)
            return JSONResponse.response(try service.answer(parameters, upload: Data(body.readableBytesView)))
        }
        router.get("/api/images/:id") { _, context in
            JSONResponse.response(try service.picture(try Self.id(context)))
        }
        router.get("/api/images/:id/thumbnail") { request, context in
            let id = try Self.id(context)
            var size = 256
            for (name, value) in try QueryString.pairs(request.uri.query) {
                guard name == "size", let n = Int(value) else {
                    throw APIError.badRequest(name == "size" ? "size must be a whole number, got \"\(value)\"" : "unknown parameter \"\(name)\"; known: size")
                }
                size = n
            }
            let (jpeg, etag) = try service.thumbnail(id, size: try service.thumbnailSize(size))
            var headers: HTTPFields = [.eTag: etag, .cacheControl: "private, max-age=3600"]
            if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: headers) }
            headers[.contentType] = "image/jpeg"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        return router
    }

    /// The `:id` of an images route: digits only (no path, no sign), else 400.
    static func id(_ context: BasicRequestContext) throws -> Int {
        let text = context.parameters.get("id") ?? ""
        guard !text.isEmpty, text.count <= 12, text.allSatisfy({ $0.isASCII && $0.isNumber }), let id = Int(text) else {
            throw APIError.badRequest("a picture id is a whole number (as search results give it), got \"\(text.prefix(40))\"")
        }
        return id
    }
}

/// Query strings as forms send them: `+` is a space, so a literal `+` of the query language
/// arrives as %2B (what encodeURIComponent and URLSearchParams both write).
enum QueryString {
    static func pairs(_ query: String?) throws -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return try query.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws -> String {
                guard let d = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw APIError.badRequest("the query string is not percent-encoded UTF-8 near \"\(s.prefix(40))\"")
                }
                return d
            }
            return (try decode(pieces[0]), pieces.count > 1 ? try decode(pieces[1]) : "")
        }
    }
}
