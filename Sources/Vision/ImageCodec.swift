// The only Swift file that imports CImageCodecs: PNG/JPEG bytes to RGBImage and back.
// The format is sniffed from the magic bytes, never the file name. Files and atomic writes
// are in RGBImage+Files.swift; this file turns C status codes into ImageError.
import CImageCodecs
import Foundation

/// The containers retrieve reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png
    case jpeg

    /// The format whose magic number starts `bytes` (PNG signature or JPEG SOI), or nil.
    public init?<C: Collection>(sniffing bytes: C) where C.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        let format = head.withUnsafeBufferPointer { rc_sniff($0.baseAddress, $0.count) }
        switch format {
        case RC_FORMAT_PNG: self = .png
        case RC_FORMAT_JPEG: self = .jpeg
        default: return nil
        }
    }

    /// The format a file name asks for when writing ("png", "jpg", "jpeg"), or nil.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }

    /// "PNG" or "JPEG", for messages.
    public var name: String { self == .png ? "PNG" : "JPEG" }
}

/// A decoded picture and, when the codec warned that it guessed part of it (a JPEG with damaged
/// compressed data), its first warning: the caller decides whether such a picture is used.
public struct DecodedImage: Sendable {
    public var image: RGBImage
    /// Kind `.damaged`; its `problem` is the line to show beside the file.
    public var damage: ImageError?
}

extension RGBImage {
    /// The default ceiling on decoded pixels: 40 megapixels (a 7300×5500 photo) is about
    /// 120 MB of RGB; a header claiming more is refused before anything is allocated.
    public static let defaultMaxPixels = 40_000_000

    /// Decodes PNG or JPEG bytes. Alpha is composited over white, EXIF orientation applied.
    /// Headers claiming more than `maxPixels` pixels are refused before any allocation.
    /// `minimumShortSide` > 0 lets a JPEG decode at 1/2, 1/4 or 1/8 size (several times
    /// faster) while its shorter side stays at least that long: ask for what you will resize
    /// to. `source` names the bytes in errors (a path, or "<memory>"). A picture the codec had
    /// to guess part of is refused (`ImageError.Kind.damaged`); `decodeKeepingDamage` keeps it.
    public init(decoding bytes: [UInt8], maxPixels: Int = RGBImage.defaultMaxPixels,
                minimumShortSide: Int = 0, source: String = "<memory>") throws {
        self = try bytes.withUnsafeBufferPointer {
            try RGBImage.decode(UnsafeRawBufferPointer($0), maxPixels: maxPixels,
                                minimumShortSide: minimumShortSide, source: source).undamaged(source)
        }
    }

    /// Decodes PNG or JPEG bytes held in `Data`, without copying them first.
    public init(decoding data: Data, maxPixels: Int = RGBImage.defaultMaxPixels,
                minimumShortSide: Int = 0, source: String = "<memory>") throws {
        self = try data.withUnsafeBytes {
            try RGBImage.decode($0, maxPixels: maxPixels, minimumShortSide: minimumShortSide, source: source).undamaged(source)
        }
    }

    /// Decodes like `init(decoding:)` but keeps a damaged picture, with the codec's warning.
    public static func decodeKeepingDamage(_ data: Data, maxPixels: Int = RGBImage.defaultMaxPixels,
                                           minimumShortSide: Int = 0, source: String = "<memory>") throws -> DecodedImage {
        try data.withUnsafeBytes { try decode($0, maxPixels: maxPixels, minimumShortSide: minimumShortSide, source: source) }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, maxPixels: Int, minimumShortSide: Int,
                               source: String) throws -> DecodedImage {
        precondition(maxPixels > 0, "maxPixels must be positive, got \(maxPixels)")
        precondition(minimumShortSide >= 0, "minimumShortSide must be >= 0, got \(minimumShortSide)")
        guard !bytes.isEmpty else { throw ImageError(source: source, kind: .empty) }
        guard let format = ImageFormat(sniffing: bytes) else {
            throw ImageError(source: source, kind: .unknownFormat(start: ImageError.printablePrefix(bytes)))
        }
        var image = rc_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { text in
            rc_decode(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, maxPixels,
                      UInt32(min(minimumShortSide, Int(UInt32.max))), &image, text.baseAddress, text.count)
        }
        defer { rc_image_free(&image) }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard status == Int32(RC_OK.rawValue) else {
            throw ImageError(source: source, kind: kind(status: status, format: format, reason: reason,
                                                        image: image, maxPixels: maxPixels))
        }
        let width = Int(image.width), height = Int(image.height), count = width * height * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.update(from: image.pixels, count: count)
            initialized = count
        }
        let damage = image.damage > 0
            ? ImageError(source: source, kind: .damaged(format, reason: reason.isEmpty ? "corrupt data" : reason)) : nil
        return DecodedImage(image: RGBImage(width: width, height: height, pixels: pixels), damage: damage)
    }

    private static func kind(status: Int32, format: ImageFormat, reason: String,
                             image: rc_image, maxPixels: Int) -> ImageError.Kind {
        switch UInt32(status) {
        case RC_EMPTY.rawValue: return .empty
        case RC_TRUNCATED.rawValue: return .truncated(format)
        case RC_TOO_LARGE.rawValue:
            return .tooLarge(width: Int(image.width), height: Int(image.height), limit: maxPixels)
        case RC_NO_MEMORY.rawValue: return .corrupt(format, reason: "out of memory while decoding")
        default: return .corrupt(format, reason: reason.isEmpty ? "undecodable data" : reason)
        }
    }

    /// The image as an 8-bit RGB PNG (lossless: decoding gives these pixels back exactly).
    public func pngData() throws -> Data {
        try encode { rgb, out, size, text, length in
            rc_encode_png(rgb, Int32(width), Int32(height), out, size, text, length)
        }
    }

    /// The image as a baseline JPEG; quality 1...100 (90 keeps artefacts below notice).
    public func jpegData(quality: Int = 90) throws -> Data {
        precondition((1...100).contains(quality), "JPEG quality must be in 1...100, got \(quality)")
        return try encode { rgb, out, size, text, length in
            rc_encode_jpeg(rgb, Int32(width), Int32(height), Int32(quality), out, size, text, length)
        }
    }

    /// The image encoded in `format` (quality applies to JPEG only).
    public func encoded(as format: ImageFormat, quality: Int = 90) throws -> Data {
        format == .png ? try pngData() : try jpegData(quality: quality)
    }

    private typealias Encoder = (UnsafePointer<UInt8>?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                                 UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>?, Int) -> Int32

    private func encode(_ encoder: Encoder) throws -> Data {
        guard width > 0, height > 0, width <= 65_500, height <= 65_500 else {
            throw ImageError(source: "<memory>", kind: .encodingFailed("a \(width)×\(height) image cannot be encoded"))
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { rgb in
            message.withUnsafeMutableBufferPointer { text in
                encoder(rgb.baseAddress, &output, &size, text.baseAddress, text.count)
            }
        }
        defer { rc_buffer_free(output) }
        guard status == Int32(RC_OK.rawValue), let output else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError(source: "<memory>", kind: .encodingFailed(reason))
        }
        return Data(bytes: output, count: size)
    }
}

extension DecodedImage {
    /// The picture, or its damage thrown.
    func undamaged(_ source: String) throws -> RGBImage {
        if let damage { throw damage }
        return image
    }
}
