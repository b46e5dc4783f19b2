// The query language: what parses to what, what is refused and where, and what a parsed query
// searches for: a plain caption exactly as before, combinations as the weighted sum of their
// terms' embeddings (normalised), `@file` pictures as the image tower sees them when indexing.
import Foundation
import Neural
import Testing
import Vision
@testable import Search
import Retrieval

struct SearchQueryTests {
    @Test(arguments: [
        ("a red circle", [QueryTerm(.text("a red circle"))]),
        ("\"a red bicycle\" + #42 − \"rain\"", [QueryTerm(.text("a red bicycle")), QueryTerm(.indexed(42)), QueryTerm(.text("rain"), weight: -1)]),
        ("red -rain", [QueryTerm(.text("red")), QueryTerm(.text("rain"), weight: -1)]),
        ("a t-shirt+jeans", [QueryTerm(.text("a t-shirt+jeans"))]),
        ("2 dogs", [QueryTerm(.text("2 dogs"))]),
        ("2*dogs + 0.5 × \"cats\"", [QueryTerm(.text("dogs"), weight: 2), QueryTerm(.text("cats"), weight: 0.5)]),
        ("- \"rain\"", [QueryTerm(.text("rain"), weight: -1)]),
        ("@photos/cat.jpg - 0.25*#7", [QueryTerm(.picture("photos/cat.jpg")), QueryTerm(.indexed(7), weight: -0.25)]),
        ("@\"my photos/cat.jpg\"+“sunny day”", [QueryTerm(.picture("my photos/cat.jpg")), QueryTerm(.text("sunny day"))]),
    ])
    func parses(text: String, terms: [QueryTerm]) throws {
        #expect(try SearchQuery(parsing: text).terms == terms)
    }

    @Test(arguments: [
        ("", 0), ("   ", 3), ("\"red", 0), ("red + ", 6), ("red + + blue", 6), ("#", 0), ("#4x", 0), ("2*", 0),
        ("0*red", 0), ("5000*red", 0), ("\"red\" blue", 6), ("red \"blue\"", 4), ("@", 0), ("\"\"", 0),
    ])
    func refusesWithThePosition(text: String, position: Int) {
        #expect(throws: QuerySyntaxError.self) { try SearchQuery(parsing: text) }
        do { _ = try SearchQuery(parsing: text) } catch let e as QuerySyntaxError {
            #expect(e.position == position, "\(text): \(e)")
        } catch {}
    }

    @Test func boundsLengthAndTerms() {
        #expect(throws: QuerySyntaxError.self) { try SearchQuery(parsing: String(repeating: "a", count: 2001)) }
        #expect(throws: QuerySyntaxError.self) { try SearchQuery(parsing: Array(repeating: "red", count: 33).joined(separator: " + ")) }
        #expect((try? SearchQuery(parsing: Array(repeating: "red", count: 32).joined(separator: " + "))) != nil)
    }

    @Test func writesItselfBackInTheLanguage() throws {
        let q = try SearchQuery(parsing: "-2*red + #3   - 0.5*@\"a b.png\"")
        #expect(q.description == "-2*\"red\" + #3 - 0.5*@\"a b.png\"")
        #expect(try SearchQuery(parsing: q.description) == q)
    }

    /// An indexed folder to search (SearchTests' tiny model and shapes).
    static func opened() throws -> (ImageSearch, URL) {
        let dir = try SearchTests.shapes(10)
        let m = try SearchTests.model(in: dir.deletingLastPathComponent())
        let indexFile = IndexLocation.defaultFile(forFolder: dir)
        _ = try SearchTests.indexer(m).update(folder: dir, indexFile: indexFile)
        return (try ImageSearch(indexFile: indexFile), dir)
    }

    @Test func aPlainCaptionSearchesExactlyAsBefore() throws {
        let (search, _) = try Self.opened()
        var options = SearchOptions()
        options.k = 6
        let before = try search.search(texts: ["a red circle"], options: options)
        let now = try search.search(query: "a red circle", options: options)
        #expect(now.results == before.results)
    }

    @Test func combinationsSearchForTheNormalisedWeightedSum() throws {
        let (search, dir) = try Self.opened()
        let picture = dir.appendingPathComponent("a/p4.png")
        let query = try SearchQuery(parsing: "\"red circle\" + 0.5*#2 - 2*@\(picture.path)")
        let (vector, _) = try search.embed(query: query) { try RGBImage(contentsOf: URL(fileURLWithPath: $0), minimumShortSide: search.pictureShortSide) }
        let d = search.index.dimension
        let text = try search.embed(texts: ["red circle"]).embeddings.data
        let row = search.index.rows([2]).data
        let image = try search.embed(imageFiles: [picture]).data
        var sum = (0..<d).map { text[$0] + 0.5 * row[$0] - 2 * image[$0] }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        sum = sum.map { $0 / norm }
        #expect(zip(vector, sum).allSatisfy { abs($0 - $1) < 1e-5 })
        // The CLI's form reads @files and gives the same ranking; #2 is asked for, so it is left out.
        let answer = try search.search(query: "\"red circle\" + 0.5*#2 - 2*@\(picture.path)", options: SearchOptions())
        let direct = search.search(embeddings: Tensor(shape: [1, d], data: sum), options: SearchOptions())[0].filter { $0.row != 2 }
        #expect(answer.results[0].map(\.row) == direct.prefix(answer.results[0].count).map(\.row))
        #expect(!answer.results[0].contains { $0.row == 2 })
    }

    @Test func unanswerableQueriesThrowWhatIsWrong() throws {
        let (search, _) = try Self.opened()
        #expect(throws: QueryError.cancelsOut) { try search.search(query: "red - red") }
        #expect(throws: QueryError.unknownPicture(id: 10, rows: 10)) { try search.search(query: "#10") }
        #expect(throws: SearchError.onlyUnknownWords(query: "zorblax", words: ["zorblax"])) { try search.search(query: "red + zorblax") }
        let partly = try search.search(query: "red zorblax + blue")
        #expect(partly.unknownWords == [["zorblax"]])
    }

    @Test func pagesFollowEachOther() throws {
        let (search, _) = try Self.opened()
        var options = SearchOptions()
        options.k = 4
        let query = try SearchQuery(parsing: "blue square")
        let first = try search.search(query: query, options: options, offset: 0) { _ in fatalError() }
        let second = try search.search(query: query, options: options, offset: 4) { _ in fatalError() }
        let third = try search.search(query: query, options: options, offset: 8) { _ in fatalError() }
        options.k = 10
        let all = try search.search(query: query, options: options) { _ in fatalError() }
        #expect((first.results + second.results + third.results).map(\.row) == all.results.map(\.row))
        #expect(first.hasMore && second.hasMore && !third.hasMore && third.results.count == 2)
    }
}
