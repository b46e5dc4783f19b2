// Wraps every route: refuses over-long request targets and bodies that announce themselves as too
// large before a byte is read, turns every thrown error (the router's 404 too) into the API's
// JSON error, and adds headers that keep a browser from sniffing or framing what we send.
import Foundation
import Hummingbird

struct GuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxURILength: Int
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await guarded(request, context: context, next: next)
        } catch {
            response = try APIError.from(error).response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    private func guarded(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.string.utf8.count <= maxURILength else {
            throw APIError(status: .uriTooLong, code: "too_long",
                           message: "the request target is longer than \(maxURILength) bytes")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw APIError(status: .contentTooLarge, code: "too_large",
                           message: "the body is \(length) bytes; at most \(maxBodyBytes) are accepted")
        }
        guard request.method == .get || request.method == .head || request.method == .post else {
            throw APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "\(request.method) is not served")
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw APIError.notFound("nothing is served at \(request.uri.path)")
        }
    }
}
