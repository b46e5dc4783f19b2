// Reading images from files and writing them safely: a write goes to a temporary file in the
// same folder and is renamed over the target, so a crash never leaves half a picture.
// Decoding and encoding themselves are in ImageCodec.swift.
import Foundation
import Neural
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RGBImage {
    /// Decodes the PNG or JPEG at `url` (the format comes from its bytes, not its name).
    /// See `init(decoding:maxPixels:minimumShortSide:source:)` for the limits.
    public init(contentsOf url: URL, maxPixels: Int = RGBImage.defaultMaxPixels, minimumShortSide: Int = 0) throws {
        try self.init(contentsOfFile: url.path, maxPixels: maxPixels, minimumShortSide: minimumShortSide)
    }

    /// Decodes the PNG or JPEG at `path`; errors name the path.
    public init(contentsOfFile path: String, maxPixels: Int = RGBImage.defaultMaxPixels,
                minimumShortSide: Int = 0) throws {
        let data = try RGBImage.readFile(path)
        try self.init(decoding: data, maxPixels: maxPixels, minimumShortSide: minimumShortSide, source: path)
    }

    /// Decodes the file at `url` like `init(contentsOf:)`, but keeps a damaged picture (with the
    /// codec's warning) instead of refusing it.
    public static func decodeKeepingDamage(contentsOf url: URL, maxPixels: Int = RGBImage.defaultMaxPixels,
                                           minimumShortSide: Int = 0) throws -> DecodedImage {
        try decodeKeepingDamage(try readFile(url.path), maxPixels: maxPixels, minimumShortSide: minimumShortSide, source: url.path)
    }

    /// Encodes the image and writes it to `url` atomically. The format defaults to the
    /// one the extension names (.png, .jpg, .jpeg).
    public func write(to url: URL, format: ImageFormat? = nil, quality: Int = 90) throws {
        guard let format = format ?? ImageFormat(fileExtension: url.pathExtension) else {
            throw ImageError(source: url.path, kind: .encodingFailed(
                "cannot tell PNG or JPEG from the extension \"\(url.pathExtension)\"; name it .png or .jpg"))
        }
        let data: Data
        do {
            data = try encoded(as: format, quality: quality)
        } catch var error as ImageError {
            error.source = url.path
            throw error
        }
        try RGBImage.writeAtomically(data, to: url)
    }

    static func readFile(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError(source: path, kind: .io("no such file"))
        }
        if isDirectory.boolValue {
            throw ImageError(source: path, kind: .io("is a folder, not an image file"))
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageError(source: path, kind: .io("cannot read the file (check its permissions)"))
        }
    }

    /// Writes `data` next to `url` under a temporary name, then renames it into place.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as FileWriteError {
            throw ImageError(source: url.path, kind: .io(error.reason))
        }
    }
}
