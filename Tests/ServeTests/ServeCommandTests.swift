// `retrieve serve` as a user runs it: prints the URL once listening (a free port with --port 0),
// says it listens on 127.0.0.1 only, answers, and on SIGTERM or SIGINT finishes the request in
// flight before it exits 0. A port already taken is an error that names it.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Serve

@Suite(.serialized)
struct ServeCommandTests {
    /// The `retrieve` binary of this build (beside the test bundle).
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("retrieve")

    /// A running `retrieve serve`, its port once it printed the URL, and its standard error.
    final class Running: @unchecked Sendable {
        let process = Process()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-serve-err-\(UUID().uuidString)")
        var firstLine = ""

        init(_ arguments: [String]) throws {
            process.executableURL = ServeCommandTests.binary
            process.arguments = ["serve"] + arguments
            let out = Pipe()
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardOutput = out
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
            var bytes: [UInt8] = []
            while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != 10 { bytes.append(byte) }
            firstLine = String(decoding: bytes, as: UTF8.self)
        }

        var port: UInt16? {
            firstLine.range(of: #"http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression)
                .flatMap { UInt16(firstLine[$0].dropFirst("http://127.0.0.1:".count).dropLast()) }
        }
        var stderr: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

        func exit() -> Int32 {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// A connected TCP socket to 127.0.0.1:port.
    static func connect(_ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(ok == 0, "cannot connect to port \(port)")
        return fd
    }

    static func send(_ fd: Int32, _ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), 0) } }

    /// Everything the server sends until it closes the connection.
    static func receiveAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func printsTheURLAnswersAndFinishesTheRequestInFlightOnStop(signal: Int32) throws {
        let server = try Running([ServeFixture.shared.folder.path, "--port", "0"])
        let port = try #require(server.port, "no URL in \(server.firstLine)")
        #expect(server.firstLine.contains("pictures of"))
        // The URL goes to standard output first; the notes on standard error follow it.
        for _ in 0..<50 where !server.stderr.contains("Ctrl-C stops") { usleep(100_000) }
        #expect(server.stderr.contains("listening on 127.0.0.1 only"), "\(server.stderr)")

        let health = try Self.connect(port)
        Self.send(health, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        let answer = Self.receiveAll(health)
        close(health)
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.contains(#""status":"ok""#))

        // Half a request, the signal, then the rest: the answer still comes, then the server stops.
        let body = #"{"q": "a red circle", "k": 3}"#
        let slow = try Self.connect(port)
        Self.send(slow, "POST /api/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body.prefix(10))
        usleep(300_000)
        kill(server.process.processIdentifier, signal)
        usleep(300_000)
        Self.send(slow, String(body.dropFirst(10)))
        let late = Self.receiveAll(slow)
        close(slow)
        #expect(late.hasPrefix("HTTP/1.1 200"), "\(late)")
        #expect(late.contains(#""results":["#))
        #expect(server.exit() == 0, "\(server.stderr)")
        #expect(server.stderr.contains("stopped"))
        // Nothing listens any more.
        let after = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let refused = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(after, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(after)
        #expect(refused != 0)
    }

    @Test func aPortInUseIsAnErrorThatNamesIt() throws {
        let first = try Running([ServeFixture.shared.folder.path, "--port", "0"])
        let port = try #require(first.port)
        defer { kill(first.process.processIdentifier, SIGTERM); _ = first.exit() }
        let second = try Running([ServeFixture.shared.folder.path, "--port", "\(port)"])
        #expect(second.exit() == 1)
        #expect(second.stderr.contains("cannot serve on 127.0.0.1:\(port)"), "\(second.stderr)")
    }

    @Test func aFolderWithoutAnIndexIsRefused() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-serve-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let run = try Running([empty.path, "--port", "0"])
        #expect(run.exit() != 0 && run.stderr.contains("no index there"), "\(run.stderr)")
        let bad = try Running(["--port", "70000"])
        #expect(bad.exit() == 64 && bad.stderr.contains("--port"), "\(bad.stderr)")
    }
}
