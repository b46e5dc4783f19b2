// Vocabulary: building (min count, size cap, deterministic order), encoding and the JSON file.
import Foundation
import Testing
import Text

struct VocabularyTests {
    let captions = [
        "a dog on the grass", "a cat on a mat", "the dog and the cat",
        "zebra", "a red ball", "Apple apple APPLE",
    ]

    @Test func mostFrequentFirstTiesAlphabetical() {
        let v = Vocabulary.build(from: captions)
        // a:4, apple:3, the:3, cat:2, dog:2, on:2, then count-1 words alphabetically.
        #expect(Array(v.words.prefix(8)) == ["<pad>", "<unk>", "a", "apple", "the", "cat", "dog", "on"])
        #expect(Array(v.words.suffix(5)) == ["ball", "grass", "mat", "red", "zebra"])
        #expect(v.counts[2] == 4 && v.counts[0] == 0)
        #expect(v.count == 2 + 12)
    }

    @Test func minCountAndMaxSize() {
        let v = Vocabulary.build(from: captions, minCount: 2)
        #expect(v.words == ["<pad>", "<unk>", "a", "apple", "the", "cat", "dog", "on"])
        let capped = Vocabulary.build(from: captions, maxSize: 5)
        #expect(capped.words == ["<pad>", "<unk>", "a", "apple", "the"])
        // Shuffled input gives the same vocabulary.
        #expect(Vocabulary.build(from: captions.reversed(), maxSize: 5) == capped)
    }

    @Test func encodeTruncatesPadsAndReportsUnknownWords() {
        let v = Vocabulary.build(from: captions, minCount: 2)
        let e = v.encode("The purple dog on a purple sofa", maxLength: 10)
        #expect(e.ids == [4, 1, 6, 7, 2, 1, 1, 0, 0, 0])
        #expect(e.length == 7)
        #expect(e.unknownWords == ["purple", "sofa"])
        let cut = v.encode("The purple dog on a purple sofa", maxLength: 3)
        #expect(cut.ids == [4, 1, 6] && cut.length == 3 && cut.unknownWords == ["purple"])
        let empty = v.encode("", maxLength: 4)
        #expect(empty.ids == [0, 0, 0, 0] && empty.length == 0 && empty.unknownWords.isEmpty)
    }

    @Test func batchIsFlatRowMajor() {
        let v = Vocabulary.build(from: captions, minCount: 2)
        let b = v.encodeBatch(["a dog", "the cat on a dog mat", ""], maxLength: 4)
        #expect(b.batchSize == 3 && b.maxLength == 4)
        #expect(b.ids == [2, 6, 0, 0, 4, 5, 7, 2, 0, 0, 0, 0])
        #expect(b.lengths == [2, 4, 0])
        #expect(Array(b.ids[4..<8]) == v.encode("the cat on a dog mat", maxLength: 4).ids)
    }

    @Test func jsonRoundTrip() throws {
        let v = Vocabulary.build(from: captions + ["it's café"], tokenizer: Tokenizer(keepNumbers: false, apostrophes: .keep))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try v.write(to: url)
        let back = try Vocabulary.read(from: url)
        #expect(back == v)
        #expect(back.tokenizer.apostrophes == .keep && !back.tokenizer.keepNumbers)
        #expect(back.encode("it's a café", maxLength: 5) == v.encode("it's a café", maxLength: 5))
        let text = String(decoding: v.jsonData(), as: UTF8.self)
        #expect(text.contains("\"version\" : 1"))
    }

    @Test(arguments: [
        ("{\"format\": \"retrieve.vocabulary\", \"version\": 1, \"words\": [", "not valid JSON"),
        ("[1, 2, 3]", "wrong type"),
        ("{\"format\": \"something.else\", \"version\": 1}", "format is"),
        ("{\"format\": \"retrieve.vocabulary\", \"version\": 1}", "missing"),
        ("{\"format\": \"retrieve.vocabulary\", \"version\": 1, \"tokenizer\": {\"keepNumbers\": true, \"apostrophes\": \"split\"}, \"words\": [\"<pad>\", \"<unk>\", \"a\"], \"counts\": [0, 0]}", "counts"),
    ])
    func damagedJSONIsMalformed(json: String, fragment: String) {
        do {
            _ = try Vocabulary(jsonData: Data(json.utf8), source: "v.json")
            Issue.record("damaged vocabulary was accepted")
        } catch let error as VocabularyError {
            guard case let .malformed(source, reason) = error else {
                Issue.record("expected .malformed, got \(error)")
                return
            }
            #expect(source == "v.json")
            #expect(reason.contains(fragment), "\(reason)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func structuralDamageIsNamed() {
        let tok = "\"tokenizer\": {\"keepNumbers\": true, \"apostrophes\": \"split\"}"
        func load(_ words: String, _ counts: String, version: Int = 1) throws -> Vocabulary {
            let json = "{\"format\": \"retrieve.vocabulary\", \"version\": \(version), \(tok), \"words\": \(words), \"counts\": \(counts)}"
            return try Vocabulary(jsonData: Data(json.utf8), source: "v.json")
        }
        #expect(throws: VocabularyError.duplicateWord(source: "v.json", word: "a", ids: [2, 3])) {
            try load("[\"<pad>\", \"<unk>\", \"a\", \"a\"]", "[0, 0, 1, 1]")
        }
        #expect(throws: VocabularyError.reservedWord(source: "v.json", word: "<pad>", id: 0)) {
            try load("[\"a\", \"<unk>\"]", "[0, 0]")
        }
        #expect(throws: VocabularyError.unsupportedVersion(source: "v.json", found: 7, supported: 1)) {
            try load("[\"<pad>\", \"<unk>\"]", "[0, 0]", version: 7)
        }
        #expect(throws: VocabularyError.self) { try Vocabulary.read(from: URL(fileURLWithPath: "/nonexistent/v.json")) }
    }
}
