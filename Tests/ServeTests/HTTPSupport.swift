// Real HTTP for the server tests, with Hummingbird's testing library: each test runs the
// SearchServer's application live (HummingbirdTesting binds it to localhost, a free port) and
// sends real requests over a socket: `.live` is one keep-alive connection, `.ahc` is
// AsyncHTTPClient's pool of connections for requests at once. JSON answers are read into
// dictionaries.
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Serve

extension TestResponse {
    var text: String { String(buffer: body) }
    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    var errorCode: String? { error["code"] as? String }
    var results: [[String: Any]] { json["results"] as? [[String: Any]] ?? [] }
    var resultIDs: [Int] { results.compactMap { $0["id"] as? Int } }
    var resultScores: [Float] { results.compactMap { ($0["score"] as? NSNumber)?.floatValue } }
}

extension SearchServer {
    /// Runs `body` against this server, live on a free port, with HummingbirdTesting's client
    /// (`.live` by default: one connection; `.ahc(.http)` for several at once); stops it after.
    func withLiveClient<T: Sendable>(_ setup: TestingSetup = .live,
                                     _ body: @escaping @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await application().test(setup, body)
    }
}

/// The ids of a search answer's results, in order.
func resultIDs(_ body: ByteBuffer) -> [Int] {
    let json = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any]
    return (json?["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
}

/// `q` and the other parameters percent-encoded as URLSearchParams does (`+` as %2B).
func searchURI(_ q: String, _ extra: String = "") -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return "/api/search?q=" + q.addingPercentEncoding(withAllowedCharacters: allowed)! + (extra.isEmpty ? "" : "&" + extra)
}

/// A PNG whose header claims width×height pixels and whose data is cut short: tests that the
/// pixel bound is checked before anything is allocated.
func pngHeader(width: UInt32, height: UInt32) -> Data {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    let ihdr: [UInt8] = Array("IHDR".utf8) + be(width) + be(height) + [8, 2, 0, 0, 0]
    var bytes: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10] + be(13) + ihdr + be(crc32(ihdr))
    bytes += be(10) + Array("IDAT".utf8) + [0x78, 0x9c, 1, 2, 3]
    return Data(bytes)
}

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xffff_ffff
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}
