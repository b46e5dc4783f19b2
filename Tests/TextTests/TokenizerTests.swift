// Tokenizer: what a user would see as the words of a caption or query.
import Testing
import Text

struct TokenizerTests {
    @Test(arguments: [
        ("A Red-and-Blue kite", ["a", "red", "and", "blue", "kite"]),
        ("Ünïcode café, Straße!", ["ünïcode", "café", "straße"]),
        ("it's the dog's ball", ["it", "s", "the", "dog", "s", "ball"]),
        ("file_name.png", ["file", "name", "png"]),
        ("  two   spaces\tand\nnewline ", ["two", "spaces", "and", "newline"]),
        ("3 dogs, 1 mp3 player in 4K", ["3", "dogs", "1", "mp3", "player", "in", "4k"]),
        ("emoji 🐶 and — dash «quotes»", ["emoji", "and", "dash", "quotes"]),
        ("ΚΑΛΗΜΕΡΑ Москва", ["καλημερα", "москва"]),
        ("红色的车 red", ["红", "色", "的", "车", "red"]),
        ("", []),
        ("?!...", []),
    ])
    func defaultRules(text: String, expected: [String]) {
        #expect(Tokenizer().words(text) == expected)
    }

    @Test func decomposedAccentStaysInTheWord() {
        // "café" written as e + U+0301 COMBINING ACUTE ACCENT must not split into "cafe" + "".
        let decomposed = "cafe\u{0301} noir"
        let words = Tokenizer().words(decomposed)
        #expect(words.count == 2)
        #expect(words[0] == "café") // Swift strings compare by canonical equivalence
    }

    @Test func apostrophesCanBeKept() {
        let t = Tokenizer(apostrophes: .keep)
        #expect(t.words("It’s the dogs' ball, rock'n'roll") == ["it's", "the", "dogs", "ball", "rock'n'roll"])
        #expect(t.words("'quoted'") == ["quoted"])
    }

    /// Pure-ASCII text takes a fast path; adding one accented word must not change the others.
    @Test(arguments: [
        "A Red-and-Blue kite", "it's the dogs' ball, rock'n'roll", "3 dogs and 2024 mp3 4K",
        "'quoted' file_name.PNG", "x' 'y ' don't", "",
    ])
    func asciiFastPathAgreesWithUnicodePath(text: String) {
        for t in [Tokenizer(), Tokenizer(keepNumbers: false, apostrophes: .keep)] {
            #expect(t.words(text + " é") == t.words(text) + ["é"])
        }
    }

    @Test func numbersCanBeDropped() {
        let t = Tokenizer(keepNumbers: false)
        #expect(t.words("3 dogs and 2024 mp3 4k") == ["dogs", "and", "mp3", "4k"])
    }

    @Test func deterministicAndFastOnManyCaptions() {
        let t = Tokenizer()
        let caption = "A small Brown dog, running across the grassy field — with a red ball (2 of them)!"
        var total = 0
        let start = ContinuousClock.now
        for _ in 0..<20_000 { total += t.words(caption).count }
        let elapsed = ContinuousClock.now - start
        #expect(total == 20_000 * 16)
        // 20k captions must tokenize well under 2 s even on a busy 2-core machine.
        #expect(elapsed < .seconds(2))
    }
}
