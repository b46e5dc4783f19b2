// `retrieve embed`: the vectors behind an index or a captions file as .npy files (float32,
// C order) with a parallel list of what each row is, for users who take them to numpy, FAISS
// or another tool. The pictures are encoded exactly as `retrieve index` encodes them.
import ArgumentParser
import Datasets
import Foundation
import Neural
import Retrieval
import Search
import Text
import VectorIndex

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write picture and caption embeddings as .npy files for other tools.",
        discussion: """
            With DIR, every PNG or JPEG under DIR is encoded by the model as retrieve index encodes it (the same decoding, preprocessing and skipped pictures), without touching DIR's index; the model is --model, else the one DIR's index records. With --index FILE, the rows of that index are written as they are stored (8-bit rows decoded), with no model and no decoding. Either way OUT/images.npy holds one unit-length row per picture and OUT/images.txt the picture's path (relative to the folder) on the same line number.

            With --captions FILE (any captions file retrieve train reads), every caption of every picture, in the file's order, is encoded by the text tower: OUT/captions.npy holds the rows and OUT/captions.tsv the picture's path, a tab and the caption on the same line number (tabs and line breaks inside a caption become spaces). Words the model does not know are left out of a caption's embedding, as in queries.

            The .npy files are NumPy format 1.0, little-endian float32 of shape (rows, dimension) in C order: numpy.load reads them, and so does FAISS. Every file is written to a temporary name and renamed; OUT is created if it does not exist.

            --json prints one object: {"images": {"npy": path, "list": path, "rows": N, "dimension": D} (absent without DIR or --index), "captions": {…the same…} (absent without --captions), "skipped": N}.

            Examples:
              retrieve embed photos --out vectors
              retrieve embed --index photos/.retrieve/index.rtrv --out vectors
              retrieve embed --captions captions.tsv --model m.safetensors --out vectors

            \(ExitStatus.table)
            """
    )

    @Argument(help: ArgumentHelp("A folder of pictures to encode.", valueName: "dir"))
    var folder: String?

    @Option(help: ArgumentHelp("Write the rows of this index instead of encoding a folder.", valueName: "file"))
    var index: String?

    @Option(help: ArgumentHelp("A captions file whose captions to encode.", valueName: "file"))
    var captions: String?

    @Option(help: ArgumentHelp("The model (default: the one DIR's index, or --index, records).", valueName: "model"))
    var model: String?

    @Option(help: ArgumentHelp("Folder for images.npy, images.txt, captions.npy, captions.tsv.", valueName: "folder"))
    var out: String

    @Flag(help: "Index damaged pictures (corrupt JPEG data that libjpeg decodes by guessing) instead of skipping them.")
    var keepDamaged = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if folder != nil && index != nil { throw ValidationError("DIR and --index exclude each other: encode a folder, or write an index's rows") }
        if folder == nil && index == nil && captions == nil {
            throw ValidationError("nothing to embed: pass a folder of pictures, --index FILE or --captions FILE")
        }
    }

    struct Written: Encodable {
        let npy: String, list: String, rows: Int, dimension: Int
    }

    struct Summary: Encodable {
        var images: Written?
        var captions: Written?
        var skipped = 0
    }

    func run() throws {
        LargeAllocations.keepInProcess()
        let outURL = URL(fileURLWithPath: out)
        do {
            try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        } catch {
            throw CommandError("\(out): cannot create the folder (\(error.localizedDescription))")
        }
        var summary = Summary()
        if let folder {
            let (rows, paths, skipped) = try encodeFolder(folder, into: outURL)
            summary.images = try write(rows, lines: paths, name: "images", list: "images.txt", into: outURL)
            summary.skipped = skipped
        } else if let index {
            let contents = try IndexFile.read(from: URL(fileURLWithPath: index))
            summary.images = try write(IndexBuilder.allRows(of: contents.storage), lines: contents.files.map(\.path),
                                       name: "images", list: "images.txt", into: outURL)
        }
        if let captions {
            summary.captions = try encodeCaptions(captions, into: outURL)
        }
        if json { return try Console.printJSON(summary) }
        for written in [summary.images, summary.captions].compactMap({ $0 }) {
            print("wrote \(written.npy): \(counted(written.rows, "row")) of \(written.dimension), listed in \(written.list)")
        }
    }

    /// The model named by --model, else the one recorded by `indexFile`.
    private func modelURL(recordedBy indexFile: URL?) throws -> URL {
        if let model { return URL(fileURLWithPath: model).standardizedFileURL }
        if let indexFile, FileManager.default.fileExists(atPath: indexFile.path) {
            return URL(fileURLWithPath: try IndexFile.recordedModel(in: indexFile))
        }
        throw CommandError("no model to encode with: pass --model MODEL" + (folder.map { " (\($0) has no index recording one)" } ?? ""),
                           status: .usage)
    }

    /// The pictures of `folder` encoded through an index built beside the outputs (hidden,
    /// removed afterwards), so the vectors are the very rows `retrieve index` would store.
    private func encodeFolder(_ folder: String, into out: URL) throws -> (rows: Tensor, paths: [String], skipped: Int) {
        let folderURL = URL(fileURLWithPath: folder)
        let modelURL = try modelURL(recordedBy: IndexLocation.defaultFile(forFolder: folderURL))
        let (encoder, fingerprint) = try ModelFile.read(from: modelURL)
        var indexer = ImageIndexer(model: encoder, modelPath: modelURL.path, fingerprint: fingerprint)
        indexer.build.mode = .exact
        indexer.keepDamaged = keepDamaged
        let scratch = out.appendingPathComponent(".embed-\(getpid()).rtrv")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let bar = ProgressBar("embed", total: 1, unit: "img")
        let report = try indexer.update(folder: folderURL, indexFile: scratch) { done, total in bar.update(done, of: total) }
        if !report.encodedPaths.isEmpty { bar.finish("", count: report.encodedPaths.count + report.undecodable.count) }
        if !report.undecodable.isEmpty {
            Console.error("warning: \(counted(report.undecodable.count, "picture")) skipped:")
            for r in report.undecodable { Console.error("  \(r.path): \(r.reason)") }
        }
        let contents = try IndexFile.read(from: scratch)
        return (IndexBuilder.allRows(of: contents.storage), contents.files.map(\.path), report.undecodable.count)
    }

    private func encodeCaptions(_ file: String, into out: URL) throws -> Written {
        let indexFile = index.map { URL(fileURLWithPath: $0) } ?? folder.map { IndexLocation.defaultFile(forFolder: URL(fileURLWithPath: $0)) }
        let (encoder, _) = try ModelFile.read(from: try modelURL(recordedBy: indexFile))
        let dataset = try CaptionDataset.read(from: URL(fileURLWithPath: file))
        for warning in dataset.warnings.prefix(10) { Console.error("warning: \(warning)") }
        var lines: [String] = [], texts: [String] = []
        for image in dataset.images {
            for caption in image.captions {
                texts.append(caption)
                lines.append(image.path + "\t" + Self.oneLine(caption))
            }
        }
        guard !texts.isEmpty else { throw CommandError("\(file): no captions to encode") }
        let (embeddings, _) = encoder.embedTexts(texts)
        let blind = texts.filter { text in
            let encoded = encoder.vocabulary.encode(text, maxLength: encoder.configuration.maxTokens)
            return !encoded.ids.prefix(encoded.length).contains { $0 != Vocabulary.unknownID }
        }.count
        if blind > 0 { Console.error("warning: \(counted(blind, "caption")) with no word the model knows (their rows say nothing)") }
        return try write(embeddings, lines: lines, name: "captions", list: "captions.tsv", into: out)
    }

    /// `text` with tabs and line breaks as spaces, so it takes one field of one line.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }

    /// NAME.npy and the list, both atomically; a path that holds a line break cannot be listed.
    private func write(_ rows: Tensor, lines: [String], name: String, list: String, into out: URL) throws -> Written {
        precondition(rows.rank == 2 && rows.shape[0] == lines.count, "\(rows.shape) rows for \(lines.count) lines")
        if let bad = lines.first(where: { $0.contains(where: \.isNewline) }) {
            throw CommandError("\(bad): the path holds a line break, which a one-path-per-line list cannot hold (rename the file)")
        }
        let npy = out.appendingPathComponent(name + ".npy"), listURL = out.appendingPathComponent(list)
        try NPYWriter.write(rows, to: npy)
        try AtomicFile.write(Data(lines.map { $0 + "\n" }.joined().utf8), to: listURL)
        return Written(npy: npy.path, list: listURL.path, rows: rows.shape[0], dimension: rows.shape[1])
    }
}
