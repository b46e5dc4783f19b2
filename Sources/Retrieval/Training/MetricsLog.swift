// Metrics as JSON lines: one line per logged step, per evaluation and per alarm, appended to a
// file that a running training keeps open, so `retrieve doctor` or a plot can read it live.
import Foundation
import Neural

/// Appends one JSON object per line to a file.
public final class MetricsLog {
    private let handle: FileHandle
    private let encoder: JSONEncoder
    public let url: URL

    /// Opens `url` for appending (created if missing); `truncate` starts it afresh.
    public init(url: URL, truncate: Bool) throws {
        if truncate || !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw FileWriteError(path: url.path, reason: "cannot create the metrics file")
            }
        }
        handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        self.url = url
    }

    deinit { try? handle.close() }

    public func append<T: Encodable>(_ record: T) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        handle.write(line)
    }
}
