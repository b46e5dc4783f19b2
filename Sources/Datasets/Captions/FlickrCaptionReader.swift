// Reads Flickr8k/Flickr30k token files: `name.jpg#N<TAB>caption`, N numbering the captions of
// an image (0–4 in the originals, more in generated sets). The name is split at the LAST '#',
// so names containing '#' still work. No quoting: the caption is the rest of the line.
import Foundation

extension CaptionDataset {
    static func readFlickr(_ data: Data, file: URL, base: URL) throws -> CaptionDataset {
        var collector = CaptionCollector(file: file.path, base: base)
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var lineNumber = 0
        // Split on "\n" only: "\r\n" is one Character in Swift and would hide the line ends.
        for raw in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(decoding: raw, as: UTF8.self).trimmedSpace
            if line.isEmpty { continue }
            guard let tab = line.firstIndex(of: "\t") else {
                collector.warn(line: lineNumber, "missing caption (no tab after name#N)")
                continue
            }
            let key = line[..<tab]
            guard let hash = key.lastIndex(of: "#"),
                  !key[key.index(after: hash)...].isEmpty,
                  key[key.index(after: hash)...].allSatisfy({ $0.isASCII && $0.isNumber }) else {
                collector.warn(line: lineNumber, "expected name.jpg#N before the tab, got \"\(key)\"")
                continue
            }
            let path = CaptionCollector.normalize(String(key[..<hash]))
            let caption = String(line[line.index(after: tab)...]).trimmedSpace
            if path.isEmpty {
                collector.warn(line: lineNumber, "missing image name before '#'")
            } else if caption.isEmpty {
                collector.warn(line: lineNumber, "empty caption for \(path)")
            } else {
                collector.add(path: path, caption: caption)
            }
        }
        return try collector.finish(source: file, format: .flickr)
    }
}
