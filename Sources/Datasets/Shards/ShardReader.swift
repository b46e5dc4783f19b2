// Turns the members of one WebDataset shard into samples: the files of a sample are adjacent in
// the tar and share a key (the member's name up to its first dot after the last slash), e.g.
// `0001.jpg` + `0001.txt`, or `0001.png` + `0001.json` with a "caption" or "text" field.
// Samples without a caption or a picture are skipped with a warning; decoding is PixelCache's.
import Foundation

/// One sample of a shard: its key, the encoded picture and its captions.
public struct ShardSample: Sendable {
    public var key: String
    /// The picture's member name and bytes (PNG or JPEG).
    public var pictureName: String
    public var picture: [UInt8]
    public var captions: [String]
}

/// Something of a shard that was left out, named by shard and member.
public struct ShardWarning: Sendable, Equatable, CustomStringConvertible {
    public var shard: String
    public var member: String?
    public var problem: String
    public var description: String { member.map { "\(shard): \($0): \(problem)" } ?? "\(shard): \(problem)" }

    public init(shard: String, member: String?, problem: String) {
        (self.shard, self.member, self.problem) = (shard, member, problem)
    }
}

public enum ShardReader {
    public static let pictureExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Calls `body` with every complete sample of the shard at `url`, in tar order; returns what
    /// was skipped. A damaged or truncated tar ends the shard with a warning, the samples before
    /// it kept; a shard that cannot be opened at all throws.
    public static func forEachSample(in url: URL, _ body: (ShardSample) throws -> Void) throws -> [ShardWarning] {
        let reader = try TarReader(url: url)
        let shard = url.lastPathComponent
        var warnings: [ShardWarning] = []
        var key: String?
        var members: [(name: String, ext: String, bytes: [UInt8])] = []

        func flush() throws {
            defer { members.removeAll(keepingCapacity: true) }
            guard let key, !members.isEmpty else { return }
            let picture = members.first { pictureExtensions.contains($0.ext) }
            var captions: [String] = []
            var captionProblem: String?
            if let text = members.first(where: { $0.ext == "txt" }) {
                captions = Self.lines(String(decoding: text.bytes, as: UTF8.self))
            } else if let json = members.first(where: { $0.ext == "json" }) {
                (captions, captionProblem) = Self.jsonCaptions(json.bytes)
            }
            guard let picture else {
                warnings.append(ShardWarning(shard: shard, member: key, problem: "no .jpg, .jpeg or .png picture; sample skipped"))
                return
            }
            guard !captions.isEmpty else {
                warnings.append(ShardWarning(shard: shard, member: picture.name,
                                             problem: (captionProblem ?? "no caption (.txt, or .json with a \"caption\" or \"text\" field)") + "; sample skipped"))
                return
            }
            try body(ShardSample(key: key, pictureName: picture.name, picture: picture.bytes, captions: captions))
        }

        do {
            while let member = try reader.next() {
                let (memberKey, ext) = Self.split(member.name)
                if memberKey != key {
                    try flush()
                    key = memberKey
                }
                members.append((member.name, ext, member.bytes))
            }
            try flush()
        } catch let error as TarError {
            try flush()
            warnings.append(ShardWarning(shard: shard, member: nil, problem: error.problem))
        }
        for name in reader.skipped {
            warnings.append(ShardWarning(shard: shard, member: name, problem: "larger than \(TarReader.largestMember >> 20) MB; skipped"))
        }
        return warnings
    }

    /// The sample key and the extension (lower case) of a member name, as WebDataset splits it:
    /// at the first dot of the last path component.
    static func split(_ name: String) -> (key: String, ext: String) {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[slash...].firstIndex(of: ".") else { return (name, "") }
        return (String(name[..<dot]), name[name.index(after: dot)...].lowercased())
    }

    /// Non-empty lines, trimmed: each one caption.
    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The "caption" (or else "text") field of a JSON object: a string or a list of strings.
    static func jsonCaptions(_ bytes: [UInt8]) -> ([String], String?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return ([], "the .json is not a JSON object")
        }
        for field in ["caption", "text"] {
            if let text = object[field] as? String { return (lines(text), nil) }
            if let texts = object[field] as? [Any] { return (texts.compactMap { $0 as? String }.flatMap(lines), nil) }
        }
        return ([], nil)
    }
}
