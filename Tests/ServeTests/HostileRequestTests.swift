// Requests a LAN will send sooner or later: bad parameters and queries (400), oversized bodies
// (413) and pictures (413 before decoding), corrupt uploads (400), bad JSON, paths that try to
// leave the folder, links out of it, files changed since indexing, unknown ids (404), long URIs.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Serve

struct HostileRequestTests {
    let fixture = ServeFixture.shared

    @Test(arguments: [
        ("k=0", "k must be"), ("k=abc", "k must be"), ("k=5000", "k must be"), ("offset=-1", "offset must be"),
        ("offset=1.5", "offset must be"), ("min_score=2", "min_score"), ("min_score=nan", "min_score"),
        ("dedup=maybe", "dedup must be"), ("limit=3", "unknown parameter \"limit\""), ("k=3&k=4", "given twice"),
    ])
    func badParametersAre400(parameter: String, message: String) async throws {
        try await fixture.server().withLiveClient { client in
            let r = try await client.execute(uri: searchURI("red", parameter), method: .get)
            #expect(r.status == .badRequest)
            #expect(r.errorCode == "bad_request")
            #expect((r.error["message"] as? String)?.contains(message) == true, "\(r.text)")
        }
    }

    @Test(arguments: ["\"red circle", "red + ", "red + + blue", "#", "#12x", "2*", "0*red", "\"red\" blue", "@"])
    func unreadableQueriesAre400(query: String) async throws {
        try await fixture.server().withLiveClient { client in
            let r = try await client.execute(uri: searchURI(query), method: .get)
            #expect(r.status == .badRequest && r.errorCode == "bad_query", "\(query): \(r.text)")
        }
    }

    @Test func queriesThatCannotBeAnsweredSayWhy() async throws {
        try await fixture.server().withLiveClient { client in
            let empty = try await client.execute(uri: "/api/search", method: .get)
            #expect(empty.status == .badRequest)
            let cancels = try await client.execute(uri: searchURI("\"red\" - \"red\""), method: .get)
            #expect(cancels.status == .badRequest && (cancels.error["message"] as? String)?.contains("cancel") == true)
            let unknown = try await client.execute(uri: searchURI("#99999"), method: .get)
            #expect(unknown.status == .notFound && unknown.errorCode == "unknown_id")
            // A path in the query is never opened, whatever it names.
            for q in ["@/etc/passwd", "@../photos/shapes/s4.png", "\"red\" + @upload"] {
                let r = try await client.execute(uri: searchURI(q), method: .get)
                #expect(r.status == .badRequest && !r.text.contains("root:"), "\(q): \(r.text)")
            }
            let long = try await client.execute(uri: searchURI(String(repeating: "red ", count: 600)), method: .get)
            #expect(long.status == .uriTooLong)
        }
    }

    @Test func oversizedCorruptAndForeignUploadsAreRefused() async throws {
        try await fixture.server().withLiveClient { client in
            let big = ByteBuffer(bytes: [UInt8](repeating: 7, count: 300 << 10))
            let tooBig = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "image/png"], body: big)
            #expect(tooBig.status == .contentTooLarge && tooBig.errorCode == "too_large")
            let huge = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "image/png"],
                                                body: ByteBuffer(bytes: pngHeader(width: 40_000, height: 40_000)))
            #expect(huge.status == .contentTooLarge && huge.errorCode == "too_many_pixels", "\(huge.text)")
            var corrupt = [UInt8](fixture.uploadPNG)
            for i in stride(from: 60, to: corrupt.count - 16, by: 7) { corrupt[i] ^= 0x5a }
            let broken = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "image/png"],
                                                  body: ByteBuffer(bytes: corrupt))
            #expect(broken.status == .badRequest && broken.errorCode == "bad_picture", "\(broken.text)")
            let text = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "image/png"],
                                                body: ByteBuffer(string: "hello, not a picture"))
            #expect(text.status == .badRequest && text.errorCode == "bad_picture")
            let form = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "multipart/form-data; boundary=x"],
                                                body: ByteBuffer(string: "--x--"))
            #expect(form.status == .unsupportedMediaType)
            let empty = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "image/jpeg"])
            #expect(empty.status == .badRequest)
        }
    }

    @Test(arguments: [
        #"{"q": "red""#, "[1, 2]", "null", #"{"q": 3}"#, #"{"q": "red", "k": "5"}"#, #"{"q": "red", "k": 2.5}"#,
        #"{"q": "red", "dedup": "yes"}"#, #"{"q": "red", "limit": 3}"#, #"{"picture": "!!!not base64!!!"}"#,
    ])
    func badJSONIs400(body: String) async throws {
        try await fixture.server().withLiveClient { client in
            let r = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: body))
            #expect(r.status == .badRequest, "\(body): \(r.text)")
            #expect(r.errorCode == "bad_request" || r.errorCode == "bad_query")
        }
    }

    @Test func jsonBodiesAreBoundedToo() async throws {
        try await fixture.server().withLiveClient { client in
            let padding = String(repeating: " ", count: 300 << 10)
            let r = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: #"{"q": "red"\#(padding)}"#))
            #expect(r.status == .contentTooLarge)
            let ok = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "application/json"],
                                              body: ByteBuffer(string: #"{"q": "red", "k": 3, "dedup": false, "min_score": -1}"#))
            #expect(ok.status == .ok && ok.resultIDs.count == 3)
        }
    }

    @Test(arguments: [
        "/api/images/../../../../etc/passwd", "/api/images/..%2F..%2F..%2Fetc%2Fpasswd/thumbnail",
        "/api/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd/thumbnail", "/api/images/-1/thumbnail", "/api/images/1e3/thumbnail",
        "/api/images/0x10/thumbnail", "/api/images/%2Fetc%2Fpasswd", "/etc/passwd", "/..%2f..%2fetc%2fpasswd",
        "/api/images/1/thumbnail/../../../../etc/passwd", "/api/images/", "/api/", "/shapes/s4.png", "/photos/shapes/s4.png",
        "/.retrieve/index.rtrv", "/api/images/99999999/thumbnail", "/api/images/999999999999999999999/thumbnail",
    ])
    func pathsNeverReachTheFileSystem(uri: String) async throws {
        try await fixture.server().withLiveClient { client in
            let r = try await client.execute(uri: uri, method: .get)
            #expect(r.status == .badRequest || r.status == .notFound, "\(uri): \(r.status)")
            #expect(r.headers[.contentType]?.hasPrefix("application/json") == true, "\(uri)")
            #expect(!r.text.contains("root:") && !r.text.contains("RTRVIDX") && !r.text.contains(fixture.folder.path), "\(uri)")
        }
    }

    @Test func onlyPicturesStillAsIndexedAndInsideTheFolderAreRead() async throws {
        try await fixture.server().withLiveClient { client in
            let out = try await client.execute(uri: "/api/images/\(fixture.outsideLink)/thumbnail", method: .get)
            #expect(out.status == .notFound && out.errorCode == "gone")
            let changed = try await client.execute(uri: "/api/images/\(fixture.changed)/thumbnail", method: .get)
            #expect(changed.status == .notFound && changed.errorCode == "gone")
            let fine = try await client.execute(uri: "/api/images/\(fixture.uploadRow)/thumbnail", method: .get)
            #expect(fine.status == .ok)
        }
    }

    @Test func otherMethodsAre405() async throws {
        try await fixture.server().withLiveClient { client in
            for method in [HTTPRequest.Method.delete, .put, .patch] {
                let r = try await client.execute(uri: "/api/search?q=red", method: method)
                #expect(r.status == .methodNotAllowed)
            }
        }
    }
}
