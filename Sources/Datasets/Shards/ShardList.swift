// Which tar shards a `--data` argument names: one `.tar`, a folder whose top level holds `.tar`
// files (sorted by name), or a brace range as WebDataset writes it, `shards/{000000..000059}.tar`
// (the digits' width kept). Shards that a range names but that do not exist are reported, not
// fatal.
import Foundation

public enum ShardList {
    /// Whether `argument` names tar shards rather than a captions file or a picture folder.
    public static func isShards(_ argument: String) -> Bool {
        if argument.hasSuffix(".tar") { return true }
        if braceRange(in: argument) != nil { return true }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder), isFolder.boolValue else { return false }
        return !tars(inFolder: argument).isEmpty
    }

    /// The shards `argument` names, in order, and the named ones that do not exist.
    public static func expand(_ argument: String) -> (shards: [URL], missing: [String]) {
        var paths: [String]
        if let range = braceRange(in: argument) {
            paths = range.values.map { value in
                let digits = String(value)
                let padded = String(repeating: "0", count: max(0, range.width - digits.count)) + digits
                return range.prefix + padded + range.suffix
            }
        } else {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder), isFolder.boolValue {
                paths = tars(inFolder: argument)
            } else {
                paths = [argument]
            }
        }
        let missing = paths.filter { !FileManager.default.fileExists(atPath: $0) }
        paths.removeAll { missing.contains($0) }
        return (paths.map { URL(fileURLWithPath: $0) }, missing)
    }

    private static func tars(inFolder folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        return names.filter { $0.hasSuffix(".tar") && !$0.hasPrefix(".") }.sorted().map { base + $0 }
    }

    /// `prefix{FROM..TO}suffix` with FROM ≤ TO, the width that of FROM.
    public static func braceRange(in argument: String) -> (prefix: String, values: ClosedRange<Int>, width: Int, suffix: String)? {
        guard let open = argument.firstIndex(of: "{"), let close = argument[open...].firstIndex(of: "}") else { return nil }
        let inside = argument[argument.index(after: open)..<close]
        let bounds = inside.components(separatedBy: "..")
        guard bounds.count == 2, let from = Int(bounds[0]), let to = Int(bounds[1]), from >= 0, from <= to else { return nil }
        return (String(argument[..<open]), from...to, bounds[0].count, String(argument[argument.index(after: close)...]))
    }
}
