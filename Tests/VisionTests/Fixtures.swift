// Helpers shared by the Vision tests: where the committed fixture images live, and a
// tolerant pixel comparison for lossy JPEG content.
import Foundation
import Vision

enum Fixtures {
    /// fixtures/images at the package root, found from this file's path.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/images")

    static func path(_ name: String) -> String {
        folder.appendingPathComponent(name).path
    }

    static func load(_ name: String, maxPixels: Int = RGBImage.defaultMaxPixels,
                     minimumShortSide: Int = 0) throws -> RGBImage {
        try RGBImage(contentsOfFile: path(name), maxPixels: maxPixels, minimumShortSide: minimumShortSide)
    }
}

typealias RGB = (UInt8, UInt8, UInt8)

/// The largest channel difference between two colours.
func colourDistance(_ a: RGB, _ b: RGB) -> Int {
    max(abs(Int(a.0) - Int(b.0)), abs(Int(a.1) - Int(b.1)), abs(Int(a.2) - Int(b.2)))
}

/// The colours at the centres of the four quadrants: top-left, top-right, bottom-left, bottom-right.
func quadrantCentres(_ image: RGBImage) -> [RGB] {
    let x0 = image.width / 4, x1 = 3 * image.width / 4, y0 = image.height / 4, y1 = 3 * image.height / 4
    return [image[x0, y0], image[x1, y0], image[x0, y1], image[x1, y1]]
}
