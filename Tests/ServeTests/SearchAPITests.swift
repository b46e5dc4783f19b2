// The search endpoint over real HTTP: the same ids and scores as ImageSearch (what the CLI
// prints), pages that add up to one long page, combinations with indexed and uploaded pictures,
// unknown words reported or refused, and answers identical under concurrent load.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Search
import Vision
@testable import Serve

struct SearchAPITests {
    let fixture = ServeFixture.shared

    @Test func textSearchGivesTheLibrarysResults() async throws {
        var options = SearchOptions()
        options.k = 7
        let expected = try fixture.search.search(texts: ["a red circle"], options: options).results[0]
        try await fixture.server().withLiveClient { client in
            let r = try await client.execute(uri: searchURI("a red circle", "k=7"), method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(r.resultIDs == expected.map(\.row))
            #expect(r.resultScores == expected.map(\.score))
            #expect(r.results.map { $0["path"] as? String } == expected.map(\.path))
            #expect(r.results.map { $0["rank"] as? Int } == Array(1...7))
            #expect(r.json["has_more"] as? Bool == true)
            #expect(r.json["unknown_words"] as? [String] == [])
        }
    }

    @Test func pagesAddUpToOneLongPage() async throws {
        try await fixture.server().withLiveClient { client in
            let all = try await client.execute(uri: searchURI("blue square", "k=30"), method: .get).resultIDs
            var paged: [Int] = []
            for offset in stride(from: 0, to: 30, by: 8) {
                let page = try await client.execute(uri: searchURI("blue square", "k=8&offset=\(offset)"), method: .get)
                #expect(page.json["offset"] as? Int == offset)
                paged += page.resultIDs
            }
            #expect(paged.prefix(30) == all[...])
            let last = try await client.execute(uri: searchURI("blue square", "k=10&offset=35"), method: .get)
            #expect(last.resultIDs.count == fixture.search.index.count - 35)
            #expect(last.json["has_more"] as? Bool == false)
        }
    }

    @Test func minScoreAndDedupAreApplied() async throws {
        try await fixture.server().withLiveClient { client in
            let all = try await client.execute(uri: searchURI("green", "k=50"), method: .get).resultScores
            let cut = all[all.count / 2]
            let kept = try await client.execute(uri: searchURI("green", "k=50&min_score=\(cut)"), method: .get)
            #expect(kept.resultScores.allSatisfy { $0 >= cut } && kept.resultScores.count < all.count)
            let folded = try await client.execute(uri: searchURI("green", "k=50&dedup=true"), method: .get)
            #expect(folded.json["dedup"] as? Bool == true)
            var options = SearchOptions()
            options.k = 50
            options.dedup = true
            #expect(folded.resultIDs == (try fixture.search.search(texts: ["green"], options: options).results[0].map(\.row)))
        }
    }

    @Test func moreLikeAnIndexedPictureLeavesItOutAndMatchesTheLibrary() async throws {
        let id = fixture.uploadRow
        let expected = try fixture.search.search(query: SearchQuery(parsing: "#\(id) - 0.5*\"red\""), options: SearchOptions()) { _ in
            throw QueryError.cancelsOut
        }
        try await fixture.server().withLiveClient { client in
            let like = try await client.execute(uri: searchURI("#\(id)", "k=10"), method: .get)
            #expect(like.status == .ok && like.resultIDs.count == 10 && !like.resultIDs.contains(id))
            let combined = try await client.execute(uri: searchURI("#\(id) - 0.5*\"red\"", "k=10"), method: .get)
            #expect(combined.resultIDs == expected.results.map(\.row))
            #expect(combined.json["query"] as? String == "#\(id) - 0.5*\"red\"")
            let terms = combined.json["terms"] as? [[String: Any]] ?? []
            #expect(terms.map { $0["kind"] as? String } == ["picture", "text"])
            #expect(terms.map { ($0["weight"] as? NSNumber)?.floatValue } == [1, -0.5])
        }
    }

    @Test func anUploadedPictureFindsItsIndexedTwinFirst() async throws {
        try await fixture.server().withLiveClient { client in
            let raw = try await client.execute(uri: "/api/search?k=5", method: .post, headers: [.contentType: "image/png"],
                                               body: ByteBuffer(bytes: fixture.uploadPNG))
            #expect(raw.status == .ok)
            #expect(raw.resultIDs.first == fixture.uploadRow)
            #expect(abs((raw.resultScores.first ?? 0) - 1) < 1e-4)
            // The same picture in JSON (base64), and joined with words.
            let body = #"{"k": 5, "picture": "\#(fixture.uploadPNG.base64EncodedString())"}"#
            let json = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "application/json"],
                                                body: ByteBuffer(string: body))
            #expect(json.resultIDs == raw.resultIDs && json.resultScores == raw.resultScores)
            let mixed = try await client.execute(uri: searchURI("@upload - \"blue\"", "k=5"), method: .post,
                                                 headers: [.contentType: "image/png"], body: ByteBuffer(bytes: fixture.uploadPNG))
            #expect(mixed.status == .ok)
            #expect((mixed.json["terms"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["upload", "text"])
        }
    }

    @Test func unknownWordsAreNamedOrRefused() async throws {
        try await fixture.server().withLiveClient { client in
            let partly = try await client.execute(uri: searchURI("a red zorblax circle"), method: .get)
            #expect(partly.status == .ok)
            #expect(partly.json["unknown_words"] as? [String] == ["zorblax"])
            let none = try await client.execute(uri: searchURI("zorblax quuxify"), method: .get)
            #expect(none.status == .unprocessableContent)
            #expect(none.errorCode == "unknown_words")
            #expect(none.error["words"] as? [String] == ["zorblax", "quuxify"])
            #expect((none.error["message"] as? String)?.contains("zorblax") == true)
            // One term of only unknown words in a combination is refused too: it would search for nothing.
            let term = try await client.execute(uri: searchURI("\"red\" + \"zorblax\""), method: .get)
            #expect(term.status == .unprocessableContent && term.error["words"] as? [String] == ["zorblax"])
        }
    }

    /// What `retrieve query Q --json -k K` prints, run in the indexed folder (paths relative to it).
    static func cliAnswer(_ query: String, k: Int) throws -> [(path: String, score: Float)] {
        let process = Process()
        process.executableURL = ServeCommandTests.binary
        process.arguments = ["query", query, "--json", "-k", "\(k)"]
        process.currentDirectoryURL = ServeFixture.shared.folder
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let hits = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        return hits.map { ($0["path"] as? String ?? "", ($0["score"] as? NSNumber)?.floatValue ?? .nan) }
    }

    @Test func concurrentConnectionsGetTheCLIsAnswers() async throws {
        let queries = ["a red circle", "blue square", "a small green triangle", "yellow", "#3", "#5 - \"red\""]
        var expected: [String: [String]] = [:], expectedScores: [String: [Float]] = [:]
        for q in queries {
            let cli = try Self.cliAnswer(q, k: 12)
            #expect(cli.count == 12, "retrieve query \(q)")
            expected[q] = cli.map(\.path)
            expectedScores[q] = cli.map(\.score)
        }
        let paths = expected, scores = expectedScores
        // 96 requests at once over AsyncHTTPClient's pool of connections.
        try await fixture.server().withLiveClient(.ahc(.http)) { client in
            try await withThrowingTaskGroup(of: (String, TestResponse).self) { group in
                for round in 0..<96 {
                    let q = queries[round % queries.count]
                    group.addTask { (q, try await client.execute(uri: searchURI(q, "k=12"), method: .get)) }
                }
                var count = 0
                for try await (q, r) in group {
                    #expect(r.status == .ok)
                    #expect(r.results.map { $0["path"] as? String ?? "" } == paths[q], "\(q)")
                    #expect(r.resultScores == scores[q], "\(q)")
                    count += 1
                }
                #expect(count == 96)
            }
        }
    }
}
