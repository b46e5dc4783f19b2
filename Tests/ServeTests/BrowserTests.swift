// The page in a real browser: headless Chromium, driven by scripts/serve/page_test.py (selenium),
// against a live server over the fixture. Types a query, sees thumbnails and scores, uses the
// keyboard, "More like this", chooses and drops pictures, reads the unknown-word warnings, and
// checks the phone-width layout; screenshots go to RETRIEVE_SCREENSHOTS or a temporary folder.
import Foundation
import HummingbirdTesting
import Testing
@testable import Serve

struct BrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/serve/page_test.py")

    @Test(.timeLimit(.minutes(3)))
    func thePageWorksInHeadlessChromium() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool),
                         "\(tool) is missing: run scripts/install-deps.sh --test (Debian's chromium and chromium-driver)")
        }
        let fixture = ServeFixture.shared
        let out = ProcessInfo.processInfo.environment["RETRIEVE_SCREENSHOTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let picture = out.appendingPathComponent("upload.png")
        try fixture.uploadPNG.write(to: picture)
        let (status, output) = try await fixture.server(calibrated: true).withLiveClient { client in
            try await Self.run(["/usr/bin/python3", Self.script.path, "http://localhost:\(client.port ?? 0)/", picture.path, out.path])
        }
        #expect(status == 0, "\(output)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("desktop.png").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("phone.png").path))
    }

    /// Runs a program to its end without blocking a thread the server needs; its exit status and output.
    static func run(_ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-page-log-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try handle.close()
        return (status, try String(contentsOf: log, encoding: .utf8))
    }
}
