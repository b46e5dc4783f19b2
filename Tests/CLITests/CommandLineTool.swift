// Runs the built `retrieve` binary as a user would, and the real pictures its tests feed it:
// Debian's Oxygen icons, captioned from their file names, written out as caption files in the
// shapes a user's data goes wrong (shuffled captions, one picture under every caption).
import Foundation

enum CommandLineTool {
    /// What one run of the tool printed and how it exited.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// The `retrieve` binary beside this test bundle (the same build folder).
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("retrieve")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/release/retrieve")
    }()

    /// Runs `retrieve arguments…` to completion in `directory`. Standard error goes to a file,
    /// so a long run cannot fill a pipe that is not being read.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Output {
        try run(executable: binary, arguments, in: directory)
    }

    /// Runs `retrieve arguments…` as `ranks` processes of one job under OpenMPI's real `mpirun`
    /// (as root, as CI runs, and with more ranks than cores if need be).
    static func mpirun(ranks: Int, _ arguments: [String], in directory: URL? = nil) throws -> Output {
        let mpirun = URL(fileURLWithPath: "/usr/bin/mpirun")
        guard FileManager.default.isExecutableFile(atPath: mpirun.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: mpirun.path,
                NSLocalizedDescriptionKey: "no mpirun: install openmpi-bin (scripts/install-deps.sh)"])
        }
        return try run(executable: mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", binary.path] + arguments,
                       in: directory)
    }

    static func run(executable: URL, _ arguments: [String], in directory: URL? = nil) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-cli-stderr-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: errURL.path])
        }
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// A fresh temporary folder, inside one folder per test process that is removed when the
    /// process exits (a run leaves some 40 MB of models, indexes and pictures otherwise).
    static func folder(_ name: String) throws -> URL {
        let url = scratch.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-cli-\(getpid())")
        atexit { try? FileManager.default.removeItem(at: CommandLineTool.scratch) }
        return url
    }()
}

/// The Oxygen icons as (absolute path, caption) pairs, in a fixed order.
enum Icons {
    static let theme = URL(fileURLWithPath: "/usr/share/icons/oxygen/base/48x48")
    private static let labels = ["actions": "action", "apps": "application", "categories": "category",
                                 "devices": "device", "emblems": "emblem", "emotes": "emote",
                                 "mimetypes": "file type", "places": "place", "status": "status"]

    static func pairs() throws -> [(path: String, caption: String)] {
        guard FileManager.default.fileExists(atPath: theme.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: theme.path,
                NSLocalizedDescriptionKey: "no icons at \(theme.path): install oxygen-icon-theme (scripts/install-deps.sh --test)"])
        }
        var pairs: [(String, String)] = []
        for (category, label) in labels.sorted(by: { $0.key < $1.key }) {
            let folder = theme.appendingPathComponent(category)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".png") {
                var words = String(name.dropLast(4))
                for ch in "-_.+" { words = words.replacingOccurrences(of: String(ch), with: " ") }
                pairs.append((folder.appendingPathComponent(name).path, words.split(separator: " ").joined(separator: " ") + " (\(label))"))
            }
        }
        return pairs
    }

    /// Writes `pairs` as a captions file in `folder`; returns its path.
    static func write(_ pairs: [(path: String, caption: String)], to folder: URL) throws -> String {
        let url = folder.appendingPathComponent("captions.tsv")
        try Data(pairs.map { "\($0.path)\t\($0.caption)\n" }.joined().utf8).write(to: url)
        return url.path
    }
}
