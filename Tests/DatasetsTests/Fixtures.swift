// Where the caption fixtures live (fixtures/captions at the package root), for every test here.
import Foundation

enum Fixtures {
    static let captions: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/captions")

    static func url(_ relative: String) -> URL { captions.appendingPathComponent(relative) }

    /// Writes `text` to a fresh temporary file with the given name and returns its URL.
    static func temporary(_ name: String, _ text: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }
}
