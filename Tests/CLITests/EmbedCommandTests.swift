// `retrieve embed` writes what numpy reads: Debian's numpy (/usr/bin/python3, installed by
// scripts/install-deps.sh --test) loads each .npy and prints its shape, dtype, layout and every
// value; they must be the index's own rows (read by the library's reader) in the order of the
// path list, the folder encoded afresh must give the same rows, and the caption rows must be
// unit vectors listed beside their captions.
import Foundation
import Search
import Testing
import VectorIndex

@Suite(.serialized)
struct EmbedCommandTests {
    @Test func embeddingsReadByNumpyAreTheIndexRows() throws {
        let w = try CLIWorkspace.get()
        let indexFile = IndexLocation.defaultFile(forFolder: w.images)
        let contents = try IndexFile.read(from: indexFile)
        let rows = IndexBuilder.allRows(of: contents.storage)
        let paths = contents.files.map(\.path)

        let stored = try CommandLineTool.folder("embed-index")
        let fromIndex = try CommandLineTool.run(["embed", "--index", indexFile.path, "--out", stored.path, "--json"])
        #expect(fromIndex.status == 0, "\(fromIndex.all)")
        let summary = try JSON.object(fromIndex.stdout)
        let images = summary["images"] as? [String: Any] ?? [:]
        #expect((images["rows"] as? Int) == 48 && (images["dimension"] as? Int) == rows.shape[1], "\(fromIndex.stdout)")
        #expect(summary["captions"] == nil)
        let read = try Self.numpy(stored.appendingPathComponent("images.npy"))
        #expect(read.header == "(48, \(rows.shape[1])) float32 C", "\(read.header)")
        #expect(read.values == rows.data, "numpy reads other values than the index holds")
        #expect(try Self.lines(stored.appendingPathComponent("images.txt")) == paths)

        // The folder encoded again by the model: the same pictures, the same rows.
        let fresh = try CommandLineTool.folder("embed-folder")
        let fromFolder = try CommandLineTool.run(["embed", w.images.path, "--out", fresh.path])
        #expect(fromFolder.status == 0 && fromFolder.stdout.contains("48 rows of \(rows.shape[1])"), "\(fromFolder.all)")
        let encoded = try Self.numpy(fresh.appendingPathComponent("images.npy"))
        let freshPaths = try Self.lines(fresh.appendingPathComponent("images.txt"))
        #expect(Set(freshPaths) == Set(paths) && freshPaths.count == 48)
        let d = rows.shape[1]
        for (i, path) in freshPaths.enumerated() {
            guard let j = paths.firstIndex(of: path) else { continue }
            let gap = zip(encoded.values[(i * d)..<((i + 1) * d)], rows.data[(j * d)..<((j + 1) * d)]).map { abs($0 - $1) }.max() ?? 1
            #expect(gap <= 1e-6, "\(path): encoded afresh differs from its index row by \(gap)")
        }
        #expect(!FileManager.default.fileExists(atPath: IndexLocation.defaultFile(forFolder: fresh).path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fresh.path).sorted() == ["images.npy", "images.txt"])
    }

    @Test func captionEmbeddingsAreListedBesideTheirCaptions() throws {
        let w = try CLIWorkspace.get()
        let out = try CommandLineTool.folder("embed-captions")
        let run = try CommandLineTool.run(["embed", "--captions", w.captions, "--model", w.model, "--out", out.path])
        #expect(run.status == 0 && run.stdout.contains("96 rows of"), "\(run.all)")
        let read = try Self.numpy(out.appendingPathComponent("captions.npy"))
        let listed = try Self.lines(out.appendingPathComponent("captions.tsv"))
        #expect(listed.count == 96 && listed.allSatisfy { $0.split(separator: "\t").count == 2 }, "\(listed.prefix(3))")
        let d = read.values.count / 96
        #expect(read.header == "(96, \(d)) float32 C")
        for r in 0..<96 {
            let norm = read.values[(r * d)..<((r + 1) * d)].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-4, "row \(r) (\(listed[r])) has norm \(norm)")
        }
    }

    @Test func nothingToEmbedIsAUsageError() throws {
        let run = try CommandLineTool.run(["embed", "--out", try CommandLineTool.folder("embed-nothing").path])
        #expect(run.status == 64 && run.stderr.contains("nothing to embed"), "\(run.all)")
    }

    /// What numpy.load makes of `file`: "shape dtype C|F" and the values, exactly.
    static func numpy(_ file: URL) throws -> (header: String, values: [Float]) {
        let script = """
            import sys, numpy
            a = numpy.load(sys.argv[1])
            print(a.shape, a.dtype, "C" if a.flags["C_CONTIGUOUS"] else "F")
            print(" ".join(repr(float(x)) for x in a.ravel()))
            """
        let run = try CommandLineTool.run(executable: URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, file.path])
        guard run.status == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "numpy could not load \(file.path) (python3-numpy: scripts/install-deps.sh --test): \(run.stderr)"])
        }
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines[0]), lines.count > 1 ? lines[1].split(separator: " ").compactMap { Float(String($0)) } : [])
    }

    static func lines(_ file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}
