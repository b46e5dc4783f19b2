// `retrieve query "TEXT"`: searches the nearest index (or --index) with the model it was built
// with; prints rank, score and path, or JSON; optional contact sheet, batch and image queries.
// A batch answers every line it can and names the others (exit 2).
import ArgumentParser
import Cluster
import Foundation
import Neural
import Retrieval
import Search

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search an indexed folder of pictures by text (or by a picture).",
        discussion: """
            The index is --index FILE, else the nearest .retrieve/index.rtrv in the current folder or a folder above it (as git finds .git). Every checksum of the index is checked first, rows included: a damaged index is refused (exit 4) with the command that rebuilds it. The text is encoded with the model the index records; a model whose fingerprint differs is refused (exit 3).

            Words the model does not know are named in a warning and left out. A query with no word the model knows, or whose known words are only words like "a" or "of", is not searched (exit 2). With --queries FILE (one query per line) every line that can be searched is answered; the others are named on stderr, get no results, and the exit status is 2.

            With a model that holds a score calibration (measured on its validation pictures when it was trained), each result of a caption query shows how likely it is a match: P(match | score) from the scores of true and of other caption–picture pairs, at even odds (docs/calibration.md). The list stops at the first result below 50% likely and says how many it left out; --all lists every one of the k, --min-likelihood P stops elsewhere. Picture queries and weighted sums of terms get no likelihood (the calibration measured captions), and neither do models without a calibration.

            Paths print relative to the current folder when below it. --json prints [{"path":…,"score":…,"likelihood":… or null}, …] for one query; with --queries, one such array per line of the file, in order, [] for a line not searched.

            Examples:
              retrieve query "a red circle" -k 5
              retrieve query "a red circle" -k 50 --all
              retrieve query --queries questions.txt --json
              retrieve query "a blue square" --grid results.png
              retrieve query --queries questions.txt --grid sheet.png
                  (sheet-1.png, sheet-2.png, … in line order)
              retrieve query --image photos/cat.jpg
              retrieve query '"a red circle" + @photos/cat.jpg - 0.5*"blue"'
                  (the query language of retrieve serve: docs/serve.md)
              mpirun -np 4 retrieve query --index photos/.retrieve/index.json "cat"
                  (each rank searches only its shards of a sharded index)

            \(ExitStatus.table)
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

    @Flag(help: "List all k results, also those less than 50% likely to match (by default the list stops there).")
    var all = false

    @Option(help: ArgumentHelp("Stop the list at the first result less likely than this to match, above 0 and at most 1 (default 0.5).", valueName: "p"))
    var minLikelihood: Double?

    @Option(help: ArgumentHelp("Write the results as a PNG contact sheet; with --queries, one sheet per query: FILE-1.png, FILE-2.png, … in line order.", valueName: "file.png"))
    var grid: String?

    @Option(help: ArgumentHelp("Many queries, one per line, answered as one batch.", valueName: "file"))
    var queries: String?

    @Option(help: ArgumentHelp("A picture as the query (image → image).", valueName: "path"))
    var image: String?

    @Flag(help: "Exact search even on an approximate (graph or IVF) index.")
    var exact = false

    @Option(help: "IVF lists probed per query (IVF indexes).")
    var nprobe: Int?

    @Option(help: "Search beam of a graph index (default 64): wider finds more of the true top k, slower.")
    var ef: Int?

    @Option(help: ArgumentHelp("Threads for encoding and searching (default: the cores, shared out among the ranks of an mpirun job); the text tower's last bits depend on it.", valueName: "n"))
    var threads: Int?

    func validate() throws {
        let given = [text != nil, queries != nil, image != nil].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of TEXT, --queries FILE or --image PATH") }
        guard k > 0 else { throw ValidationError("-k must be positive, got \(k)") }
        if let nprobe, nprobe <= 0 { throw ValidationError("--nprobe must be positive, got \(nprobe)") }
        if let ef, ef <= 0 { throw ValidationError("--ef must be positive, got \(ef)") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
        if let minLikelihood {
            guard minLikelihood > 0, minLikelihood <= 1 else { throw ValidationError("--min-likelihood is a probability above 0 and at most 1, got \(minLikelihood)") }
            guard !all else { throw ValidationError("give --all or --min-likelihood, not both") }
        }
        if let grid, !grid.lowercased().hasSuffix(".png") { throw ValidationError("--grid writes a PNG: name it .png") }
    }

    var searchOptions: SearchOptions {
        var options = SearchOptions()
        options.k = k
        options.minScore = minScore
        options.dedup = dedup
        options.exact = exact
        options.nprobe = nprobe
        options.ef = ef
        options.cutLikelihood(all: all, asked: minLikelihood)
        return options
    }

    func run() throws {
        let world = Communicator.world
        Distributed.start(world)
        if let threads { Threads.count = threads }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let texts = try queryLines()
        guard let indexURL = index.map({ URL(fileURLWithPath: $0) }) ?? IndexLocation.find(from: cwd) else {
            throw SearchError.noIndexFound(searchedFrom: cwd.path)
        }
        let modelURL = model.map { URL(fileURLWithPath: $0) }
        let search: ImageSearch
        var answers: [ImageSearch.TextAnswer]
        if world.isDistributed {
            if dedup { throw ValidationError("--dedup compares pictures of every shard; under mpirun leave it out") }
            if queries == nil, image == nil, try compound(texts[0]) != nil {
                throw ValidationError("under mpirun, query searches plain captions (TEXT, --queries) or --image; the query language needs every shard in one process")
            }
            let distributed = DistributedQuery(world: world)
            search = try distributed.open(indexURL, model: modelURL)
            var local = searchOptions
            local.minLikelihood = nil  // cut after the merge
            answers = try self.answers(search, texts, options: local, embedding: distributed.leaderEmbedding)
            answers = try distributed.answers(answers, search: search, k: k, minLikelihood: image == nil ? searchOptions.minLikelihood : nil)
        } else {
            search = try ImageSearch(indexFile: indexURL, modelFile: modelURL)
            answers = try self.answers(search, texts, options: searchOptions)
        }
        if queries == nil, image == nil, let problem = answers[0].problem {
            throw world.isDistributed ? AgreedError(error: problem) : problem  // the merged answers are every rank's
        }
        if let warning = search.model.calibrationWarning { Console.error("warning: \(warning)") }
        for answer in answers where !answer.unknownWords.isEmpty {
            Console.error("warning: query \"\(answer.query)\": the model does not know \(answer.unknownWords.map { "\"\($0)\"" }.joined(separator: ", ")); searching with the other words")
        }
        let unanswered = answers.enumerated().filter { $0.element.problem != nil }
        for (line, answer) in unanswered {
            Console.error("error: \(queries ?? ""):\(line + 1): \(answer.problem!) — not searched")
        }
        if world.isLeader { try writeGrids(answers) }
        print(answers, cwd: cwd)
        for answer in answers where answer.belowCut > 0 {
            let more = answer.results.isEmpty ? "all \(answer.belowCut) results are" : "\(answer.belowCut) more"
            let which = answers.count > 1 ? "query \"\(answer.query)\": " : ""
            Console.error("note: \(which)\(more) below \(cutOff(searchOptions.minLikelihood ?? 0)) likely to match: --all to see them")
        }
        if !unanswered.isEmpty {
            Console.error("error: \(queries ?? ""): \(counted(unanswered.count, "line")) of \(answers.count) not searched; the others are answered")
            throw ExitCode(ExitStatus.noKnownWord.rawValue)
        }
    }

    /// The answers of one process: its shards (all of them unless a rank of mpirun).
    /// `embedding` runs each embedding (of the picture, or of the searchable texts): the call
    /// itself in one process, rank 0's result sent to every rank under mpirun.
    private func answers(_ search: ImageSearch, _ texts: [String], options: SearchOptions,
                         embedding: (() throws -> Tensor) throws -> Tensor = { try $0() }) throws -> [ImageSearch.TextAnswer] {
        if let image {
            let picture = try embedding { try search.embed(imageFiles: [URL(fileURLWithPath: image)]) }
            let results = search.search(embeddings: picture, options: options)[0]
            return [ImageSearch.TextAnswer(query: image, results: results, unknownWords: [], problem: nil)]
        }
        if queries == nil, let query = try compound(texts[0]) {
            return [try search.answer(query: query, options: options)]
        }
        return try search.answer(texts: texts, options: options) { good in
            try embedding { search.model.embedTexts(good).embeddings }
        }
    }

    /// TEXT when it is more than a caption (terms joined by + or −, weights, #id, @picture),
    /// for the query language; nil for a plain caption, searched as a batch line would be.
    private func compound(_ text: String) throws -> String? {
        let query = try SearchQuery(parsing: text)
        if query.terms.count == 1, query.terms[0].weight == 1, case .text = query.terms[0].source { return nil }
        return text
    }

    /// The text, or the lines of --queries (blank lines skipped); the picture's path for --image.
    private func queryLines() throws -> [String] {
        if let image { return [image] }
        guard let queries else { return [text!] }
        let contents: String
        do { contents = try String(contentsOfFile: queries, encoding: .utf8) } catch {
            throw CommandError("\(queries): cannot read the queries file (check the path; one query per line, UTF-8)")
        }
        let lines = contents.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw ValidationError("--queries \(queries) holds no queries (one per line)") }
        return lines
    }

    private func writeGrids(_ answers: [ImageSearch.TextAnswer]) throws {
        guard let grid else { return }
        if queries != nil {
            // One sheet per query: FILE-1.png for the first line of --queries, and so on.
            let urls = try ContactSheet.writeEach(answers.map(\.results), to: URL(fileURLWithPath: grid))
            for (url, answer) in zip(urls, answers) { Console.error("wrote \(url.path) (\"\(answer.query)\")") }
        } else if let first = answers.first {
            try ContactSheet.write(first.results, to: URL(fileURLWithPath: grid))
            Console.error("wrote \(grid)")
        }
    }

    private func print(_ answers: [ImageSearch.TextAnswer], cwd: URL) {
        func shown(_ r: SearchResult) -> String {
            let base = cwd.standardizedFileURL.path + "/"
            let path = r.url.standardizedFileURL.path
            return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
        }
        if json {
            let hits = answers.map { $0.results.map { LikelyHit(path: shown($0), score: $0.score, likelihood: $0.likelihood) } }
            Swift.print((queries != nil ? try? Console.json(hits) : try? Console.json(hits.first ?? [])) ?? "[]")
            return
        }
        for answer in answers {
            if answers.count > 1 { Swift.print(answer.query) }
            if answer.problem != nil { Swift.print("  (not searched)"); continue }
            if answer.results.isEmpty {
                Swift.print(answer.belowCut > 0 ? "  (no result \(cutOff(searchOptions.minLikelihood ?? 0)) likely to match)" : "  (no results)")
            }
            for (rank, r) in answer.results.enumerated() {
                let likely = r.likelihood.map { pad(percent($0), 6) } ?? ""
                Swift.print(pad("\(rank + 1)", 4) + pad(String(format: "%.4f", r.score), 8) + likely + shown(r))
            }
        }
    }
}

/// One result in `--json`: the likelihood is null (not absent) when the model has no calibration
/// or the query is not one caption.
struct LikelyHit: Encodable {
    let path: String
    let score: Float
    let likelihood: Double?

    enum CodingKeys: String, CodingKey { case path, score, likelihood }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(score, forKey: .score)
        try c.encode(likelihood.map { ($0 * 1000).rounded() / 1000 }, forKey: .likelihood)
    }
}

/// A likelihood as a person reads it: "87%", and "<1%" or ">99%" at the ends (it never is 0 or 1).
func percent(_ p: Double) -> String {
    if p < 0.01 { return "<1%" }
    if p > 0.99 { return ">99%" }
    return "\(Int((p * 100).rounded()))%"
}

/// A cut-off as the user gave it: "50%", "100%", "97.5%".
func cutOff(_ p: Double) -> String {
    let tenths = (p * 1000).rounded()
    return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))%" : "\(tenths / 10)%"
}
