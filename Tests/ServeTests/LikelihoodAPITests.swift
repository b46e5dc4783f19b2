// The likelihood of a match over HTTP: every result of a caption query carries it when the model
// has a calibration (null, not absent, when it has none or the query is not one caption), the
// page of results stops below 50% and says how many it left out, `all` and `min_likelihood`
// move the cut, bad values are 400s, and /api/index says what the calibration was measured on.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Search
@testable import Serve

struct LikelihoodAPITests {
    let fixture = ServeFixture.shared

    /// The fixture's calibration puts 50% at the median score of "a red circle" (a bin edge).
    @Test func captionResultsStopBelowFiftyPercentAndSayHowManyWereLeftOut() async throws {
        try await fixture.server(calibrated: true).withLiveClient { client in
            let every = try await client.execute(uri: searchURI("a red circle", "k=40&all=true"), method: .get)
            #expect(every.json["min_likelihood"] is NSNull && every.json["below_cut"] as? Int == 0)
            let likelihoods = every.results.compactMap { $0["likelihood"] as? Double }
            #expect(likelihoods.count == 40 && likelihoods == likelihoods.sorted(by: >), "\(likelihoods)")
            let likely = likelihoods.filter { $0 >= 0.5 }.count
            #expect(likely > 0 && likely < 40, "the fixture must score pictures on both sides of its edge: \(every.resultScores)")
            let edge = fixture.calibrationEdge
            #expect(zip(every.resultScores, likelihoods).allSatisfy { ($0 >= edge) == ($1 >= 0.5) || abs($0 - edge) < 1e-5 })

            let cut = try await client.execute(uri: searchURI("a red circle", "k=40"), method: .get)
            #expect(cut.status == .ok)
            #expect(cut.resultIDs == Array(every.resultIDs.prefix(likely)))
            #expect(cut.json["below_cut"] as? Int == 40 - likely)
            #expect(cut.json["min_likelihood"] as? Double == 0.5 && cut.json["has_more"] as? Bool == false)

            // A page within the likely ones is whole and has more; the next page starts at the cut.
            let first = try await client.execute(uri: searchURI("a red circle", "k=\(max(1, likely - 1))"), method: .get)
            #expect(first.json["below_cut"] as? Int == 0 && first.json["has_more"] as? Bool == (likely > 1))
            let rest = try await client.execute(uri: searchURI("a red circle", "k=\(40 - likely)&offset=\(likely)&all=true"), method: .get)
            #expect(rest.resultIDs == Array(every.resultIDs[likely...]))

            // A stricter cut keeps fewer; the same for a JSON body.
            let strict = try await client.execute(uri: searchURI("a red circle", "k=40&min_likelihood=0.99"), method: .get)
            #expect(strict.results.allSatisfy { ($0["likelihood"] as? Double ?? 0) >= 0.99 })
            #expect(strict.resultIDs.count + (strict.json["below_cut"] as? Int ?? -1) == 40)
            let posted = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "application/json"],
                                                  body: ByteBuffer(string: #"{"q": "a red circle", "k": 40, "all": true}"#))
            #expect(posted.resultIDs == every.resultIDs)
        }
    }

    @Test func noCalibrationOrAQueryThatIsNotOneCaptionMeansNoLikelihoodAndNoCut() async throws {
        try await fixture.server().withLiveClient { client in
            let plain = try await client.execute(uri: searchURI("a red circle", "k=40"), method: .get)
            #expect(plain.resultIDs.count == 40 && plain.json["below_cut"] as? Int == 0 && plain.json["min_likelihood"] is NSNull)
            #expect(plain.results.allSatisfy { $0["likelihood"] is NSNull }, "present as null: \(plain.text.prefix(300))")
            let facts = try await client.execute(uri: "/api/index", method: .get)
            #expect((facts.json["model"] as? [String: Any])?["calibration"] is NSNull)
        }
        try await fixture.server(calibrated: true).withLiveClient { client in
            for q in ["#3", "\"red\" - \"blue\"", "-\"red\""] {
                let r = try await client.execute(uri: searchURI(q, "k=40"), method: .get)
                #expect(r.status == .ok && r.resultIDs.count >= 39 && r.json["min_likelihood"] is NSNull && r.json["below_cut"] as? Int == 0, "\(q)")
                #expect(r.results.allSatisfy { $0["likelihood"] is NSNull }, "\(q)")
            }
            let facts = try await client.execute(uri: "/api/index", method: .get)
            let calibration = (facts.json["model"] as? [String: Any])?["calibration"] as? [String: Any] ?? [:]
            #expect(calibration["pictures"] as? Int == 40 && calibration["captions"] as? Int == 80)
            #expect(calibration["prior"] as? Double == 0.5 && calibration["min_likelihood"] as? Double == 0.5)
        }
    }

    @Test func badCutOffsAreRefused() async throws {
        try await fixture.server(calibrated: true).withLiveClient { client in
            for extra in ["min_likelihood=0", "min_likelihood=1.5", "min_likelihood=high", "min_likelihood=nan",
                          "all=maybe", "all=true&min_likelihood=0.7"] {
                let r = try await client.execute(uri: searchURI("red", extra), method: .get)
                #expect(r.status == .badRequest && r.errorCode == "bad_request", "\(extra): \(r.text)")
                #expect((r.error["message"] as? String ?? "").contains(extra.contains("all=true") ? "not both" : extra.hasPrefix("all") ? "all" : "min_likelihood"), "\(r.text)")
            }
            let r = try await client.execute(uri: "/api/search", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: #"{"q": "red", "all": "yes"}"#))
            #expect(r.status == .badRequest)
        }
    }
}
