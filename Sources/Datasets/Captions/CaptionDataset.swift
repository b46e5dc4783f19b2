// The captioned-image data set as the readers hand it over: each image once, with all its
// captions in file order, plus the warnings for the lines that were skipped. Reading (and the
// choice of format) is in CaptionReader.swift; splitting in DataSplit.swift. Image files are
// not opened here: `partitionByExistence()` helps, decoding is the loader's job.
import Foundation

/// One image and every caption given for it.
public struct CaptionedImage: Sendable, Equatable {
    /// The path as written in the captions file (a leading "./" removed). It identifies the
    /// image: hash splits and split files use it, so it must not depend on where the data sits.
    public var path: String
    /// Where the image file is expected: `path` resolved against the images directory.
    public var url: URL
    /// Captions in the order the file gives them (duplicates kept).
    public var captions: [String]

    public init(path: String, url: URL, captions: [String]) {
        self.path = path
        self.url = url
        self.captions = captions
    }
}

/// A caption file format.
public enum CaptionFormat: String, Sendable, CaseIterable, Codable {
    /// `image_path<TAB>caption` lines (optional header, RFC 4180 quoting).
    case tsv
    /// `image_path,caption` lines (optional header, RFC 4180 quoting).
    case csv
    /// COCO captions JSON: `images[]` (`id`, `file_name`) and `annotations[]` (`image_id`, `caption`).
    case coco
    /// Flickr8k/30k token file: `name.jpg#N<TAB>caption`.
    case flickr
    /// A folder of images, each with a sidecar `.txt` (one caption per non-empty line).
    case sidecar
    /// WebDataset tar shards (`KEY.jpg`/`KEY.png` + `KEY.txt` or `KEY.json`), read by
    /// `TrainingData.load(shards:…)`, never by `read(from:)`.
    case webDataset
}

/// A record that was skipped, and where. The run goes on; callers show these to the user.
public struct CaptionWarning: Sendable, Equatable, CustomStringConvertible {
    /// The file the problem is in (the captions file, or a sidecar / image for folders).
    public var file: String
    /// 1-based line where the record starts; nil when the problem concerns a whole file.
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// Why a captions file could not be read at all.
///
/// Policy: a malformed record (missing or empty caption, unbalanced quote, COCO annotation with an
/// unknown image id) is skipped and listed as a `CaptionWarning`. The whole read fails only when
/// the file cannot be read, is not a recognised format, is not valid JSON (COCO), holds no usable
/// record, or has more malformed records than good ones (then it is most likely not the format
/// it was read as, and training on the remainder would mislead).
public enum CaptionDataError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case unrecognizedFormat(file: String, reason: String)
    case invalidJSON(file: String, line: Int, column: Int, reason: String)
    /// Not one image–caption pair; `warnings` holds the first problems seen.
    case noValidRecords(file: String, warnings: [CaptionWarning])
    /// More malformed records than good ones; `warnings` holds the first problems seen.
    case mostlyMalformed(file: String, malformed: Int, valid: Int, warnings: [CaptionWarning])

    public var description: String {
        func first(_ w: [CaptionWarning]) -> String {
            w.isEmpty ? "" : "; first problems:\n" + w.prefix(5).map { "  \($0)" }.joined(separator: "\n")
        }
        switch self {
        case let .unreadable(f, r): return "\(f): cannot read: \(r)"
        case let .unrecognizedFormat(f, r): return "\(f): not a recognised captions file: \(r)"
        case let .invalidJSON(f, l, c, r): return "\(f):\(l):\(c): invalid JSON: \(r)"
        case let .noValidRecords(f, w): return "\(f): no image–caption pair found\(first(w))"
        case let .mostlyMalformed(f, m, v, w):
            return "\(f): \(m) malformed records against \(v) good ones; is this the right format?\(first(w))"
        }
    }
}

/// Images with their captions, in the order the file first names them.
public struct CaptionDataset: Sendable {
    public var images: [CaptionedImage]
    /// Records skipped while reading (see `CaptionDataError` for the policy).
    public var warnings: [CaptionWarning]
    /// The file or folder read.
    public var source: URL
    public var format: CaptionFormat

    public init(images: [CaptionedImage], warnings: [CaptionWarning], source: URL, format: CaptionFormat) {
        self.images = images
        self.warnings = warnings
        self.source = source
        self.format = format
    }

    /// Total number of captions over all images.
    public var captionCount: Int { images.reduce(0) { $0 + $1.captions.count } }

    /// Splits the images into those whose file exists and those missing (in data-set order),
    /// so the caller can report missing files before decoding starts.
    public func partitionByExistence() -> (existing: [CaptionedImage], missing: [CaptionedImage]) {
        var existing: [CaptionedImage] = []
        var missing: [CaptionedImage] = []
        let fm = FileManager.default
        for image in images {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: image.url.path, isDirectory: &isDirectory) && !isDirectory.boolValue {
                existing.append(image)
            } else {
                missing.append(image)
            }
        }
        return (existing, missing)
    }
}

/// Groups (path, caption) records by image in first-seen order and applies the error policy.
struct CaptionCollector {
    let file: String
    let base: URL
    private(set) var images: [CaptionedImage] = []
    private var index: [String: Int] = [:]
    var warnings: [CaptionWarning] = []
    private(set) var valid = 0
    var malformed = 0

    init(file: String, base: URL) {
        self.file = file
        self.base = base
    }

    /// Normalises a path as written: trims spaces, drops a leading "./".
    static func normalize(_ path: String) -> String {
        var p = Substring(path.trimmedSpace)
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        return String(p)
    }

    /// Makes sure the image is listed (even before it has a caption) and returns its index.
    @discardableResult
    mutating func register(path: String) -> Int {
        if let i = index[path] { return i }
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        images.append(CaptionedImage(path: path, url: url, captions: []))
        index[path] = images.count - 1
        return images.count - 1
    }

    mutating func add(path: String, caption: String) {
        images[register(path: path)].captions.append(caption)
        valid += 1
    }

    mutating func warn(line: Int?, _ message: String, file: String? = nil) {
        warnings.append(CaptionWarning(file: file ?? self.file, line: line, message: message))
        malformed += 1
    }

    /// The data set, or the error the policy calls for. Images left without captions are dropped.
    func finish(source: URL, format: CaptionFormat, checkRatio: Bool = true) throws -> CaptionDataset {
        if valid == 0 { throw CaptionDataError.noValidRecords(file: file, warnings: Array(warnings.prefix(10))) }
        if checkRatio && malformed > valid {
            throw CaptionDataError.mostlyMalformed(file: file, malformed: malformed, valid: valid,
                                                   warnings: Array(warnings.prefix(10)))
        }
        return CaptionDataset(images: images.filter { !$0.captions.isEmpty }, warnings: warnings,
                              source: source, format: format)
    }
}
