// Entry point for reading captions: picks the format (from the path, or sniffed from the first
// lines) and hands over to the reader of that format. The TSV/CSV reader lives here too, with
// its header detection; COCO, Flickr and sidecar folders have their own files.
import Foundation

extension CaptionDataset {
    /// Reads a captions file or folder.
    ///
    /// - Parameters:
    ///   - url: a TSV/CSV/Flickr token file, a COCO captions `.json`, or a folder of images with
    ///     sidecar `.txt` captions.
    ///   - format: nil to detect it (see `CaptionFormat.detect(at:)`).
    ///   - imagesDirectory: folder the image paths are relative to; by default the folder that
    ///     holds the captions file (the folder itself for sidecar captions). Absolute paths in a
    ///     file are kept as they are.
    /// - Throws: `CaptionDataError` when the file cannot be used at all; single bad records are
    ///   skipped and listed in `warnings` instead.
    public static func read(from url: URL, format: CaptionFormat? = nil,
                            imagesDirectory: URL? = nil) throws -> CaptionDataset {
        let format = try format ?? CaptionFormat.detect(at: url)
        if format == .sidecar { return try readSidecarFolder(url) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CaptionDataError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let base = imagesDirectory ?? url.deletingLastPathComponent()
        switch format {
        case .tsv, .csv: return try readDelimited(data, file: url, format: format, base: base)
        case .coco: return try readCOCO(data, file: url, base: base)
        case .flickr: return try readFlickr(data, file: url, base: base)
        case .sidecar: fatalError("handled above")
        case .webDataset:
            throw CaptionDataError.unreadable(file: url.path, reason: "tar shards are read with TrainingData.load(shards:), not as a captions file")
        }
    }

    static func readDelimited(_ data: Data, file: URL, format: CaptionFormat, base: URL) throws -> CaptionDataset {
        var parser = DelimitedParser(data: data, delimiter: format == .csv ? UInt8(ascii: ",") : 0x09)
        var collector = CaptionCollector(file: file.path, base: base)
        var first = true
        while let record = parser.next() {
            defer { first = false }
            switch record.outcome {
            case let .pair(path, caption):
                if first && CaptionFormat.looksLikeHeader(path: path, caption: caption) { continue }
                collector.add(path: path, caption: caption)
            case let .problem(message):
                collector.warn(line: record.line, message)
            }
        }
        return try collector.finish(source: file, format: format)
    }
}

extension CaptionFormat {
    /// Detects the format of a captions file or folder:
    /// a directory → `.sidecar`; a `.json` file → `.coco`; a file whose first non-empty lines
    /// mostly look like `name#N<TAB>` → `.flickr`; otherwise `.tsv` if those lines contain a tab,
    /// `.csv` if they contain a comma. Anything else is `CaptionDataError.unrecognizedFormat`.
    public static func detect(at url: URL) throws -> CaptionFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CaptionDataError.unreadable(file: url.path, reason: "no such file or folder")
        }
        if isDirectory.boolValue { return .sidecar }
        if url.pathExtension.lowercased() == "json" { return .coco }
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw CaptionDataError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 64 * 1024)) ?? Data()
        return try detect(head: head, file: url.path)
    }

    static func detect(head: Data, file: String) throws -> CaptionFormat {
        var lines = String(decoding: head, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .map { String($0).trimmedSpace }.filter { !$0.isEmpty }
        if head.count == 64 * 1024 && lines.count > 1 { lines.removeLast() } // may be cut short
        lines = Array(lines.prefix(20))
        guard !lines.isEmpty else {
            throw CaptionDataError.unrecognizedFormat(file: file, reason: "the file is empty")
        }
        if lines.first?.hasPrefix("{") == true || lines.first?.hasPrefix("[") == true {
            return .coco
        }
        let flickrLike = lines.filter(isFlickrLine).count
        if flickrLike * 2 > lines.count { return .flickr }
        if lines.contains(where: { $0.contains("\t") }) { return .tsv }
        if lines.contains(where: { $0.contains(",") }) { return .csv }
        throw CaptionDataError.unrecognizedFormat(
            file: file, reason: "no tab or comma separates an image path from a caption in the first lines "
                + "(expected image_path<TAB>caption, image_path,caption, name.jpg#0<TAB>caption, or COCO JSON)")
    }

    /// `something#123<TAB>…`
    static func isFlickrLine(_ line: String) -> Bool {
        guard let tab = line.firstIndex(of: "\t"), let hash = line[..<tab].lastIndex(of: "#") else { return false }
        let digits = line[line.index(after: hash)..<tab]
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber } && hash > line.startIndex
    }

    static let headerPathWords: Set<String> = [
        "path", "image", "images", "img", "file", "filename", "filepath", "imagepath", "relativeimagepath",
        "imagename", "imagefile", "imagefilename", "url", "imageurl", "name", "imageid", "picture", "photo",
    ]
    static let headerCaptionWords: Set<String> = [
        "caption", "captions", "text", "description", "sentence", "comment", "label", "title", "prompt",
        "alt", "alttext", "query",
    ]

    /// True when a first row reads like column names ("image_path, caption") rather than data:
    /// its first field is a known path column name, or its second is a known caption column name
    /// while the first has no file extension. The reference reader skips exactly the rows whose
    /// first field is one of path, image, image_path, relative_image_path, file, filename, img;
    /// all of those are covered.
    static func looksLikeHeader(path: String, caption: String) -> Bool {
        func key(_ s: String) -> String {
            String(s.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }
                .map(Character.init))
        }
        if headerPathWords.contains(key(path)) { return true }
        return headerCaptionWords.contains(key(caption)) && !path.contains(".")
    }
}
