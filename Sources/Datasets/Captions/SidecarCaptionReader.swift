// Reads a folder of images with sidecar captions: `dir/a/cat.jpg` is captioned by
// `dir/a/cat.txt` (or `dir/a/cat.jpg.txt`), one caption per non-empty line. Images are found
// recursively by extension (png, jpg, jpeg, any case); hidden files and folders are skipped.
// Images come out sorted by relative path, so the order does not depend on the file system.
import Foundation

extension CaptionDataset {
    /// Extensions (lower-case) of the image files a folder read picks up.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    static func readSidecarFolder(_ dir: URL) throws -> CaptionDataset {
        let fm = FileManager.default
        let subpaths: [String]
        do { subpaths = try fm.subpathsOfDirectory(atPath: dir.path) } catch {
            throw CaptionDataError.unreadable(file: dir.path, reason: error.localizedDescription)
        }
        let images = subpaths.filter { sub in
            !sub.split(separator: "/").contains { $0.hasPrefix(".") }
                && imageExtensions.contains((sub as NSString).pathExtension.lowercased())
        }.sorted()
        var collector = CaptionCollector(file: dir.path, base: dir)
        for path in images {
            let imageURL = dir.appendingPathComponent(path)
            let candidates = [imageURL.deletingPathExtension().appendingPathExtension("txt"),
                              imageURL.appendingPathExtension("txt")]
            guard let sidecar = candidates.first(where: { fm.fileExists(atPath: $0.path) }) else {
                collector.warn(line: nil, "no caption file (\(candidates[0].lastPathComponent))", file: imageURL.path)
                continue
            }
            let data: Data
            do { data = try Data(contentsOf: sidecar) } catch {
                collector.warn(line: nil, "cannot read: \(error.localizedDescription)", file: sidecar.path)
                continue
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            let captions = text.utf8.split(separator: UInt8(ascii: "\n"))
                .map { String(decoding: $0, as: UTF8.self).trimmedSpace }
                .filter { !$0.isEmpty }
            if captions.isEmpty {
                collector.warn(line: nil, "caption file is empty", file: sidecar.path)
                continue
            }
            for caption in captions { collector.add(path: path, caption: caption) }
        }
        if images.isEmpty {
            throw CaptionDataError.unrecognizedFormat(file: dir.path, reason: "no PNG or JPEG images in the folder")
        }
        // A folder may well hold uncaptioned images: only "no caption at all" is an error.
        return try collector.finish(source: dir, format: .sidecar, checkRatio: false)
    }
}
