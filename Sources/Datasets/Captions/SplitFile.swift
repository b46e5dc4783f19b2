// A user's own split: `image_path<TAB>train|val|test` per line, no header needed (one is skipped
// if present), as the reference builder writes split.tsv. Paths must be written as in the
// captions file. Labels: train/training, val/valid/validation/dev, test/testing (any case).
import Foundation

/// The image → split assignments of a split file.
public struct SplitFile: Sendable {
    /// Path as written (a leading "./" removed) → split.
    public var assignments: [String: DataSplit]
    /// Lines skipped (unknown label, missing label, quoting problems) and conflicting repeats.
    public var warnings: [CaptionWarning]

    public init(assignments: [String: DataSplit], warnings: [CaptionWarning] = []) {
        self.assignments = assignments
        self.warnings = warnings
    }

    /// Reads a split file. A path listed twice keeps its last label (as the reference's
    /// `dict(...)`), with a warning if the labels differ.
    /// Throws `CaptionDataError` if the file cannot be read or assigns nothing.
    public static func read(from url: URL) throws -> SplitFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CaptionDataError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let head = String(decoding: data.prefix(4096), as: UTF8.self)
        let delimiter: UInt8 = head.contains("\t") || !head.contains(",") ? 0x09 : UInt8(ascii: ",")
        var parser = DelimitedParser(data: data, delimiter: delimiter)
        var assignments: [String: DataSplit] = [:]
        var lineOf: [String: Int] = [:]
        var warnings: [CaptionWarning] = []
        var first = true
        while let record = parser.next() {
            defer { first = false }
            switch record.outcome {
            case let .problem(message):
                warnings.append(CaptionWarning(file: url.path, line: record.line,
                                               message: message.replacingOccurrences(of: "caption", with: "split label")))
            case let .pair(path, label):
                guard let split = parseLabel(label) else {
                    if first && CaptionFormat.looksLikeHeader(path: path, caption: label) { continue }
                    warnings.append(CaptionWarning(file: url.path, line: record.line,
                                                   message: "unknown split \"\(label)\" (expected train, val or test)"))
                    continue
                }
                if let old = assignments[path], old != split {
                    warnings.append(CaptionWarning(
                        file: url.path, line: record.line,
                        message: "\(path) was \(old.rawValue) at line \(lineOf[path] ?? 0), now \(split.rawValue); the last one counts"))
                }
                assignments[path] = split
                lineOf[path] = record.line
            }
        }
        if assignments.isEmpty {
            throw CaptionDataError.noValidRecords(file: url.path, warnings: Array(warnings.prefix(10)))
        }
        return SplitFile(assignments: assignments, warnings: warnings)
    }

    static func parseLabel(_ label: String) -> DataSplit? {
        switch label.trimmedSpace.lowercased() {
        case "train", "training": return .train
        case "val", "valid", "validation", "dev": return .val
        case "test", "testing": return .test
        default: return nil
        }
    }

    /// Writes the splits in the reference's split.tsv format (path<TAB>split, no header, train
    /// then val then test, each in data-set order),
    /// so a hash split can be frozen and edited by hand.
    public static func write(_ splits: DatasetSplits, to url: URL) throws {
        var text = ""
        for part in DataSplit.allCases {
            for image in splits[part] { text += "\(image.path)\t\(part.rawValue)\n" }
        }
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw CaptionDataError.unreadable(file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
