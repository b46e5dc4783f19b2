// `retrieve query "TEXT"`: searches the nearest index (or --index) with the model it was built
// with; prints rank, score and path, or JSON; optional contact sheet, batch and image queries.
import ArgumentParser
import Foundation
import Search

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search an indexed folder of pictures by text (or by a picture).",
        discussion: """
            The index is --index FILE, else the nearest .retrieve/index.rtrv in the current folder
            or a folder above it (as git finds .git). The text is encoded with the model the index
            records; a model whose fingerprint differs is refused (exit 3): re-run retrieve index.
            Unknown words are named in a warning; a query of only unknown words is an error (exit 2).
            Paths print relative to the current folder when below it. --json prints
            [{"path":…,"score":…}, …], or one such array per line of --queries.
            Examples:
              retrieve query "a red circle" -k 5
              retrieve query --queries questions.txt --json
              retrieve query "a blue square" --grid results.png
              retrieve query --queries questions.txt --grid sheet.png   (sheet-1.png, sheet-2.png, …)
              retrieve query --image photos/cat.jpg
              retrieve query '"a red circle" + @photos/cat.jpg - 0.5*"blue"'   (docs/serve.md: the query language)
            """
    )

    @Argument(help: "The text to search for.")
    var text: String?

    @Option(name: .short, help: "Number of results.")
    var k = 10

    @Option(help: ArgumentHelp("Index file (default: the nearest .retrieve/index.rtrv upwards).", valueName: "file"))
    var index: String?

    @Option(help: ArgumentHelp("Model file (default: the one the index records; must be the same model).", valueName: "model"))
    var model: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Drop results scoring below this cosine.")
    var minScore: Float?

    @Flag(help: "Fold near-identical results (same bytes, or embeddings with cosine above 0.98).")
    var dedup = false

    @Option(help: ArgumentHelp("Write the results as a PNG contact sheet; with --queries, one sheet per query: FILE-1.png, FILE-2.png, … in line order.", valueName: "file.png"))
    var grid: String?

    @Option(help: ArgumentHelp("Many queries, one per line, answered as one batch.", valueName: "file"))
    var queries: String?

    @Option(help: ArgumentHelp("A picture as the query (image → image).", valueName: "path"))
    var image: String?

    @Flag(help: "Exact search even on an approximate (IVF) index.")
    var exact = false

    @Option(help: "IVF lists probed per query (approximate indexes).")
    var nprobe: Int?

    func validate() throws {
        let given = [text != nil, queries != nil, image != nil].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of TEXT, --queries FILE or --image PATH") }
        guard k > 0 else { throw ValidationError("-k must be positive, got \(k)") }
        if let nprobe, nprobe <= 0 { throw ValidationError("--nprobe must be positive, got \(nprobe)") }
        if let grid, !grid.lowercased().hasSuffix(".png") { throw ValidationError("--grid writes a PNG: name it .png") }
    }

    func run() throws {
        do { try answer() } catch let error as ExitCode { throw error } catch {
            Console.error("error: \(error)")
            throw ExitCode(searchExitStatus(for: error))
        }
    }

    private func answer() throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        guard let indexURL = index.map({ URL(fileURLWithPath: $0) }) ?? IndexLocation.find(from: cwd) else {
            throw SearchError.noIndexFound(searchedFrom: cwd.path)
        }
        let search = try ImageSearch(indexFile: indexURL, modelFile: model.map { URL(fileURLWithPath: $0) })
        var options = SearchOptions()
        options.k = k
        options.minScore = minScore
        options.dedup = dedup
        options.exact = exact
        options.nprobe = nprobe
        let texts: [String]
        let results: [[SearchResult]]
        if let image {
            texts = [image]
            results = try search.search(imageFiles: [URL(fileURLWithPath: image)], options: options)
        } else {
            if let queries {
                texts = try String(contentsOfFile: queries, encoding: .utf8).split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !texts.isEmpty else { throw ValidationError("\(queries) holds no queries (one per line)") }
            } else {
                texts = [text!]
            }
            let answer = try queries == nil ? search.search(query: texts[0], options: options) : search.search(texts: texts, options: options)
            for (query, words) in zip(texts, answer.unknownWords) where !words.isEmpty {
                Console.error("warning: the model does not know \(words.map { "\"\($0)\"" }.joined(separator: ", ")) in \"\(query)\"; searching with the other words")
            }
            results = answer.results
        }
        if let grid {
            if queries != nil {
                // One sheet per query: FILE-1.png for the first line of --queries, and so on.
                let urls = try ContactSheet.writeEach(results, to: URL(fileURLWithPath: grid))
                for (url, query) in zip(urls, texts) { Console.error("wrote \(url.path) (\"\(query)\")") }
            } else if let first = results.first {
                try ContactSheet.write(first, to: URL(fileURLWithPath: grid))
                Console.error("wrote \(grid)")
            }
        }
        print(results: results, texts: texts, cwd: cwd)
    }

    private func print(results: [[SearchResult]], texts: [String], cwd: URL) {
        func shown(_ r: SearchResult) -> String {
            let base = cwd.standardizedFileURL.path + "/"
            let path = r.url.standardizedFileURL.path
            return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
        }
        if json {
            struct Hit: Encodable { let path: String; let score: Float }
            let hits = results.map { $0.map { Hit(path: shown($0), score: $0.score) } }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = queries != nil ? try? encoder.encode(hits) : try? encoder.encode(hits.first ?? [])
            Swift.print(String(decoding: data ?? Data("[]".utf8), as: UTF8.self))
            return
        }
        for (query, list) in zip(texts, results) {
            if results.count > 1 { Swift.print("\(query)") }
            if list.isEmpty { Swift.print("  (no results)") }
            for (rank, r) in list.enumerated() {
                Swift.print(pad("\(rank + 1)", 4) + pad(String(format: "%.4f", r.score), 8) + shown(r))
            }
        }
    }
}

/// Exit status for a failed search: 2 for a query with no known word, 3 for a model the
/// index does not accept, 1 for anything else.
func searchExitStatus(for error: any Error) -> Int32 {
    switch error as? SearchError {
    case .onlyUnknownWords: return 2
    case .modelMismatch, .modelMissing, .dimensionMismatch: return 3
    default: return 1
    }
}
