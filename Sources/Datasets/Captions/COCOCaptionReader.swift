// Reads COCO captions JSON (captions_train2017.json and the like): `images[]` gives each image's
// `id` and `file_name`, `annotations[]` gives `image_id` and `caption`. Images come out in the
// order of `images[]`, captions in annotation order. Ids may be integers or strings.
import Foundation

extension CaptionDataset {
    static func readCOCO(_ data: Data, file: URL, base: URL) throws -> CaptionDataset {
        let root: JSONTree
        do { root = try JSONTree.parse(data) } catch let e as JSONTree.SyntaxError {
            throw CaptionDataError.invalidJSON(file: file.path, line: e.line, column: e.column, reason: e.message)
        }
        guard let images = root["images"]?.array, let annotations = root["annotations"]?.array else {
            throw CaptionDataError.unrecognizedFormat(
                file: file.path, reason: "no \"images\" and \"annotations\" arrays; not a COCO captions file")
        }
        var collector = CaptionCollector(file: file.path, base: base)
        var pathOfID: [String: String] = [:]
        var lineOfID: [String: Int] = [:]
        for image in images {
            guard image.isObject else {
                collector.warn(line: image.line, "an entry of \"images\" is not an object")
                continue
            }
            guard let id = image["id"]?.idKey else {
                collector.warn(line: image.line, "image without a usable \"id\"")
                continue
            }
            guard let name = image["file_name"]?.string.map(CaptionCollector.normalize), !name.isEmpty else {
                collector.warn(line: image.line, "image \(id) without a \"file_name\"")
                continue
            }
            if let earlier = lineOfID[id] {
                collector.warn(line: image.line, "image id \(id) listed again (first at line \(earlier)); kept the first")
                continue
            }
            pathOfID[id] = name
            lineOfID[id] = image.line
            collector.register(path: name)
        }
        for annotation in annotations {
            guard annotation.isObject else {
                collector.warn(line: annotation.line, "an entry of \"annotations\" is not an object")
                continue
            }
            guard let id = annotation["image_id"]?.idKey else {
                collector.warn(line: annotation.line, "annotation without a usable \"image_id\"")
                continue
            }
            guard let path = pathOfID[id] else {
                collector.warn(line: annotation.line, "annotation points at unknown image id \(id)")
                continue
            }
            guard let raw = annotation["caption"]?.string else {
                collector.warn(line: annotation.line, "annotation for image \(id) without a \"caption\" string")
                continue
            }
            let caption = raw.trimmedSpace
            guard !caption.isEmpty else {
                collector.warn(line: annotation.line, "empty caption for image \(id)")
                continue
            }
            collector.add(path: path, caption: caption)
        }
        let uncaptioned = collector.images.filter { $0.captions.isEmpty }
        if let firstPath = uncaptioned.first?.path {
            let firstID = pathOfID.first { $0.value == firstPath }?.key ?? "?"
            collector.warnings.append(CaptionWarning(
                file: file.path, line: lineOfID[firstID],
                message: "\(uncaptioned.count) image(s) have no caption and are left out (first: \(firstPath))"))
        }
        return try collector.finish(source: file, format: .coco)
    }
}
