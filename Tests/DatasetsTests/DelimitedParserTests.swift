// RFC 4180 corner cases of the TSV/CSV record parser, on in-memory text.
import Foundation
import Testing
@testable import Datasets

struct DelimitedParserTests {
    func parse(_ text: String, _ delimiter: Character = ",") -> [DelimitedParser.Record] {
        var p = DelimitedParser(data: Data(text.utf8), delimiter: delimiter.asciiValue!)
        return p.records()
    }

    func pair(_ line: Int, _ path: String, _ caption: String) -> DelimitedParser.Record {
        DelimitedParser.Record(line: line, outcome: .pair(path: path, caption: caption))
    }

    @Test func quotedFields() {
        let r = parse("a.png,\"x, y\"\n\"b,c.png\",\"say \"\"hi\"\"\"\nd.png,\"multi\nline\ncaption\"\ne.png,last")
        #expect(r == [pair(1, "a.png", "x, y"), pair(2, "b,c.png", "say \"hi\""),
                      pair(3, "d.png", "multi\nline\ncaption"), pair(6, "e.png", "last")])
    }

    @Test func crlfBlankLinesAndSpaces() {
        let r = parse("\r\n  a.png , hello \r\n\r\n\tb.png,\"q\"  \r\n", ",")
        #expect(r == [pair(2, "a.png", "hello"), pair(4, "b.png", "q")])
    }

    @Test func unbalancedQuoteResynchronisesAtTheNextLine() {
        let r = parse("a.png,ok\nb.png,\"open\nc.png,\"x\" y\nd.png,fine\n")
        #expect(r.count == 4)
        #expect(r[1].line == 2 && r[1].outcome == .problem(DelimitedParser.unbalanced))
        #expect(r[2] == pair(3, "c.png", "\"x\" y"))
        #expect(r[3] == pair(4, "d.png", "fine"))
        let atEnd = parse("a.png,ok\nb.png,\"never")
        #expect(atEnd.last?.outcome == .problem(DelimitedParser.unbalanced) && atEnd.last?.line == 2)
    }

    @Test func tabDelimitedKeepsCommasInCaptions() {
        #expect(parse("a.png\tone, two\n", "\t") == [pair(1, "a.png", "one, two")])
    }

    @Test func missingPathOrCaption() {
        let r = parse(",caption\nonly-a-path\n")
        #expect(r[0].outcome == .problem("missing image path"))
        #expect(r[1].line == 2)
        if case let .problem(m) = r[1].outcome { #expect(m.contains("missing caption")) } else { Issue.record("no problem") }
    }
}
