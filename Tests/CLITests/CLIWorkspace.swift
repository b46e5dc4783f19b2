// One tiny workspace for the tool's contract tests, made once by the tool itself: 48 shape
// pictures at 32 px (`retrieve synth`), a model trained on them for one epoch, and the pictures
// indexed. Also a way to start the tool without waiting (for Ctrl-C) and JSON helpers.
import Foundation
import Testing

struct CLIWorkspace: Sendable {
    let root: URL
    let captions: String
    let images: URL
    let model: String
    let synth: CommandLineTool.Output
    let train: CommandLineTool.Output
    let index: CommandLineTool.Output

    /// Made on first use; every test that needs it shares it (the suites only read it).
    static let shared: Result<CLIWorkspace, any Error> = Result { try make() }

    static func get() throws -> CLIWorkspace { try shared.get() }

    static let quick = ["--image-size", "32", "--batch", "16"]

    private static func make() throws -> CLIWorkspace {
        let root = try CommandLineTool.folder("workspace")
        let synth = try CommandLineTool.run(["synth", "--out", root.appendingPathComponent("shapes").path,
                                             "--count", "48", "--size", "32", "--json"])
        let captions = root.appendingPathComponent("shapes/captions.tsv").path
        let model = root.appendingPathComponent("model.safetensors").path
        let train = try CommandLineTool.run(["train", "--data", captions, "--out", model, "--epochs", "1", "--json"] + quick)
        let images = root.appendingPathComponent("shapes/images")
        let index = try CommandLineTool.run(["index", images.path, "--model", model, "--json"])
        return CLIWorkspace(root: root, captions: captions, images: images, model: model,
                            synth: synth, train: train, index: index)
    }

    /// A fresh copy of the indexed pictures (with their index) that a test may damage.
    func copyOfImages(_ name: String) throws -> URL {
        let copy = try CommandLineTool.folder(name).appendingPathComponent("images")
        try FileManager.default.copyItem(at: images, to: copy)
        return copy
    }
}

/// A running `retrieve`, for tests that signal it.
struct RunningTool {
    let process: Process
    let stderrURL: URL
    let stdout: Pipe

    /// The tool started with `arguments`, alone or as `ranks` ranks of a real mpirun job.
    static func start(_ arguments: [String], ranks: Int? = nil) throws -> RunningTool {
        let process = Process()
        if let ranks {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", CommandLineTool.binary.path] + arguments
        } else {
            process.executableURL = CommandLineTool.binary
            process.arguments = arguments
        }
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-cli-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        // A child inherits the spawning thread's blocked signals, and the test runner's threads
        // block SIGINT, SIGTERM and SIGUSR1; a shell blocks none, so the child starts as from one.
        var signals = sigset_t(), saved = sigset_t()
        sigemptyset(&signals)
        for number in [SIGINT, SIGTERM, SIGUSR1] { sigaddset(&signals, number) }
        pthread_sigmask(SIG_UNBLOCK, &signals, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
        return RunningTool(process: process, stderrURL: errURL, stdout: out)
    }

    var stderrSoFar: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    func wait() -> CommandLineTool.Output {
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: stderrURL) }
        return CommandLineTool.Output(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self),
                                      stderr: stderrSoFar)
    }
}

enum JSON {
    /// The one JSON value printed on stdout.
    static func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    static func object(_ text: String) throws -> [String: Any] {
        guard let object = try parse(text) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "not a JSON object: \(text.prefix(200))"])
        }
        return object
    }

    /// True for a JSON number (not a string that looks like one, not a boolean).
    static func isNumber(_ value: Any?) -> Bool {
        guard let value, value is NSNumber else { return false }
        return !isBool(value)
    }

    /// True for true or false (Foundation hands them over as a boolean NSNumber subclass).
    static func isBool(_ value: Any?) -> Bool {
        guard let value, value is NSNumber else { return false }
        return String(describing: type(of: value)).contains("Boolean")
    }
}
