// A contact sheet of search results: thumbnails in a grid, each captioned with its rank and score
// drawn by a built-in 3×5 pixel font (digits, '#', '.', '-'), so no font library is needed.
// Pictures that cannot be decoded any more get a grey tile. Several queries: one sheet each.
import Foundation
import Vision

public enum ContactSheet {
    /// Glyphs of 3×5 pixels, rows top to bottom, bit 2 = left column.
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
        "#": [5, 7, 5, 7, 5], " ": [0, 0, 0, 0, 0],
    ]

    /// The sheet for `results`: `columns` thumbnails of `thumbnail` pixels per row, "#rank score" under each.
    public static func render(_ results: [SearchResult], thumbnail: Int = 128, columns: Int = 5) -> RGBImage {
        let scale = max(1, thumbnail / 64), gap = 4, label = 7 * scale + 2
        let cols = max(1, min(columns, results.count)), rows = max(1, (results.count + cols - 1) / cols)
        let cellW = thumbnail + gap, cellH = thumbnail + label + gap
        var sheet = RGBImage(width: cols * cellW + gap, height: rows * cellH + gap, fill: (255, 255, 255))
        for (i, result) in results.enumerated() {
            let x0 = gap + (i % cols) * cellW, y0 = gap + (i / cols) * cellH
            let tile = (try? picture(result, side: thumbnail).centerSquare(side: thumbnail))
                ?? RGBImage(width: thumbnail, height: thumbnail, fill: (160, 160, 160))
            blit(tile, into: &sheet, x: x0, y: y0)
            draw("#\(i + 1) " + String(format: "%.3f", result.score), into: &sheet, x: x0, y: y0 + thumbnail + 2, scale: scale)
        }
        return sheet
    }

    /// A result's picture: its file, or its member read from the archive.
    static func picture(_ result: SearchResult, side: Int) throws -> RGBImage {
        guard let member = result.member, let archive = result.archive else {
            return try RGBImage(contentsOf: result.url, minimumShortSide: side)
        }
        guard let data = IndexedFile.readMember(archive: archive.path, member: member, size: result.size) else {
            throw CocoaError(.fileReadCorruptFile)  // a grey tile
        }
        return try RGBImage(decoding: data, minimumShortSide: side, source: result.path)
    }

    /// Writes the sheet as a PNG (atomically).
    public static func write(_ results: [SearchResult], to url: URL, thumbnail: Int = 128, columns: Int = 5) throws {
        try render(results, thumbnail: thumbnail, columns: columns).write(to: url, format: .png)
    }

    /// Where the sheets of several queries go: FILE-1.png, FILE-2.png, … beside `url` (one per
    /// query, in query order), since the built-in font cannot label a row with the query text.
    public static func numberedURLs(_ url: URL, count: Int) -> [URL] {
        let ext = url.pathExtension, stem = url.deletingPathExtension()
        return (0..<max(0, count)).map { i in
            let named = stem.deletingLastPathComponent().appendingPathComponent("\(stem.lastPathComponent)-\(i + 1)")
            return ext.isEmpty ? named : named.appendingPathExtension(ext)
        }
    }

    /// Writes one sheet per query to `numberedURLs(url, count: results.count)`; returns them.
    @discardableResult
    public static func writeEach(_ results: [[SearchResult]], to url: URL, thumbnail: Int = 128, columns: Int = 5) throws -> [URL] {
        let urls = numberedURLs(url, count: results.count)
        for (list, target) in zip(results, urls) { try write(list, to: target, thumbnail: thumbnail, columns: columns) }
        return urls
    }

    static func blit(_ image: RGBImage, into sheet: inout RGBImage, x: Int, y: Int) {
        let w = sheet.width
        sheet.withUnsafeMutablePixels { dst in
            image.pixels.withUnsafeBufferPointer { src in
                for row in 0..<image.height {
                    (dst.baseAddress! + ((y + row) * w + x) * 3)
                        .update(from: src.baseAddress! + row * image.width * 3, count: image.width * 3)
                }
            }
        }
    }

    /// Draws `text` in black, each font pixel a scale×scale square; unknown characters are blank.
    static func draw(_ text: String, into sheet: inout RGBImage, x: Int, y: Int, scale: Int) {
        var cursor = x
        for ch in text {
            let glyph = glyphs[ch] ?? glyphs[" "]!
            for (r, bits) in glyph.enumerated() {
                for c in 0..<3 where bits & (4 >> c) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = cursor + c * scale + dx, py = y + r * scale + dy
                            if px < sheet.width && py < sheet.height { sheet[px, py] = (0, 0, 0) }
                        }
                    }
                }
            }
            cursor += 4 * scale
        }
    }
}
