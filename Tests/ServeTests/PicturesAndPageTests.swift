// Thumbnails (the project's own codecs: JPEG that decodes, fitted inside the size asked, cached
// under a memory bound, 304 on a matching ETag), picture and index facts that name no absolute
// path, health, and the page with its stylesheet and script under a strict CSP.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Vision
@testable import Serve

struct PicturesAndPageTests {
    let fixture = ServeFixture.shared

    @Test func thumbnailsAreJPEGsFittedInTheSizeAsked() async throws {
        let server = fixture.server()
        try await server.withLiveClient { client in
            let id = fixture.uploadRow
            for (asked, served) in [(256, 256), (100, 128), (64, 64)] {
                let r = try await client.execute(uri: "/api/images/\(id)/thumbnail?size=\(asked)", method: .get)
                #expect(r.status == .ok && r.headers[.contentType] == "image/jpeg")
                let image = try RGBImage(decoding: Data(r.body.readableBytesView))
                // The pictures are 96×96: never enlarged, shrunk to fit otherwise.
                #expect(max(image.width, image.height) == min(96, served))
            }
            let first = try await client.execute(uri: "/api/images/\(id)/thumbnail", method: .get)
            let etag = try #require(first.headers[.eTag])
            let again = try await client.execute(uri: "/api/images/\(id)/thumbnail", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            for bad in ["size=0", "size=5000", "size=big", "width=3"] {
                let r = try await client.execute(uri: "/api/images/\(id)/thumbnail?\(bad)", method: .get)
                #expect(r.status == .badRequest, "\(bad)")
            }
        }
        #expect(server.service.thumbnails.count == 3)
    }

    @Test func theThumbnailCacheKeepsItsBound() {
        let cache = ThumbnailCache(capacity: 1000)
        for i in 0..<50 { cache.put(.init(id: i, size: 64), Data(repeating: UInt8(i), count: 90)) }
        #expect(cache.heldBytes <= 1000 && cache.count == 11)
        #expect(cache.get(.init(id: 49, size: 64)) != nil && cache.get(.init(id: 0, size: 64)) == nil)
        // Recently used entries survive; a value larger than the bound is not kept at all.
        _ = cache.get(.init(id: 39, size: 64))
        cache.put(.init(id: 100, size: 64), Data(count: 90))
        #expect(cache.get(.init(id: 39, size: 64)) != nil && cache.get(.init(id: 40, size: 64)) == nil)
        cache.put(.init(id: 101, size: 64), Data(count: 5000))
        #expect(cache.get(.init(id: 101, size: 64)) == nil && cache.heldBytes <= 1000)
    }

    @Test func thumbnailMemoryStaysBoundedOverManyPictures() async throws {
        let server = fixture.server { $0.thumbnailCacheBytes = 20_000 }
        try await server.withLiveClient { client in
            for id in 0..<fixture.search.index.count where id != fixture.outsideLink && id != fixture.changed {
                let r = try await client.execute(uri: "/api/images/\(id)/thumbnail?size=128", method: .get)
                #expect(r.status == .ok)
            }
        }
        #expect(server.service.thumbnails.heldBytes <= 20_000 && server.service.thumbnails.count > 0)
    }

    @Test func factsNameNoPathOfTheMachine() async throws {
        try await fixture.server { $0.dedup = true }.withLiveClient { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok && health.json["status"] as? String == "ok")
            #expect(health.json["rows"] as? Int == fixture.search.index.count)
            let index = try await client.execute(uri: "/api/index", method: .get)
            #expect(index.json["rows"] as? Int == fixture.search.index.count)
            #expect(index.json["folder"] as? String == "photos" && index.json["dedup_default"] as? Bool == true)
            let model = index.json["model"] as? [String: Any] ?? [:]
            #expect(model["fingerprint"] as? String == fixture.search.index.modelFingerprint)
            #expect(model["file"] as? String == "model.safetensors")
            #expect(index.json["built"] is String)
            #expect(!index.text.contains(fixture.folder.deletingLastPathComponent().path))
            let picture = try await client.execute(uri: "/api/images/\(fixture.uploadRow)", method: .get)
            #expect(picture.json["path"] as? String == "shapes/s4.png" && picture.json["id"] as? Int == fixture.uploadRow)
            #expect(!picture.text.contains(fixture.folder.path))
            // The server's default folding shows in answers and can be turned off per request.
            let folded = try await client.execute(uri: searchURI("red"), method: .get)
            let unfolded = try await client.execute(uri: searchURI("red", "dedup=false"), method: .get)
            #expect(folded.json["dedup"] as? Bool == true && unfolded.json["dedup"] as? Bool == false)
        }
    }

    @Test func thePageAndItsFilesAreServedUnderAStrictPolicy() async throws {
        try await fixture.server().withLiveClient { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'") && policy.contains("default-src 'none'") && !policy.contains("unsafe"))
            #expect(page.text.contains(#"<script src="/app.js" defer></script>"#) && !page.text.contains("http"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            for (path, type) in [("/app.js", "text/javascript"), ("/app.css", "text/css"), ("/favicon.svg", "image/svg+xml")] {
                let r = try await client.execute(uri: path, method: .get)
                #expect(r.status == .ok && r.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                #expect(!r.text.contains("https://") || path == "/favicon.svg", "\(path) loads nothing from elsewhere")
            }
            // The script builds results with DOM calls: file names never go through innerHTML.
            let script = try await client.execute(uri: "/app.js", method: .get)
            #expect(!script.text.contains("innerHTML"))
            // HEAD answers every GET route with the headers alone.
            for path in ["/", "/healthz", "/api/index", "/api/images/\(fixture.uploadRow)/thumbnail"] {
                let head = try await client.execute(uri: path, method: .head)
                #expect(head.status == .ok && head.body.readableBytes == 0, "HEAD \(path)")
            }
        }
    }
}
