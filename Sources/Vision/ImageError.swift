// The one error type of image reading and writing: which file, and what is wrong with it.
// Its description is a single line a user can act on, e.g.
// `photo.jpg: not a PNG or JPEG image (starts with "hello wor")`.

/// A bad image file or a failed read/write. `source` is the path as given (or "<memory>").
public struct ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The file has no bytes at all.
        case empty
        /// The bytes are neither PNG nor JPEG; `start` shows the first few, printable.
        case unknownFormat(start: String)
        /// The data stops before the image does (an interrupted copy or download).
        case truncated(ImageFormat)
        /// The codec rejected the data; `reason` is its message (e.g. "IDAT: CRC error").
        case corrupt(ImageFormat, reason: String)
        /// The codec decoded it but warned that it guessed part of the picture (a JPEG whose
        /// compressed data is damaged); `reason` is its first warning.
        case damaged(ImageFormat, reason: String)
        /// The header claims more pixels than allowed: refused before any pixel buffer exists.
        case tooLarge(width: Int, height: Int, limit: Int)
        /// Reading or writing the file failed (missing, unreadable, disk full...).
        case io(String)
        /// The encoder failed (out of memory, or an image it cannot hold).
        case encodingFailed(String)
    }

    public var source: String
    public var kind: Kind

    public init(source: String, kind: Kind) {
        self.source = source
        self.kind = kind
    }

    public var description: String {
        "\(source): \(problem)"
    }

    /// The problem alone, without the file name.
    public var problem: String {
        switch kind {
        case .empty:
            return "empty file (0 bytes), not an image"
        case .unknownFormat(let start):
            return "not a PNG or JPEG image (starts with \"\(start)\")"
        case .truncated(let format):
            return "truncated \(format.name): the file ends before the image does"
        case .corrupt(let format, let reason):
            return "corrupt \(format.name) data: \(reason)"
        case .damaged(let format, let reason):
            return "damaged \(format.name): part of the picture had to be guessed (\(ImageError.lowercasedFirst(reason)))"
        case .tooLarge(let width, let height, let limit):
            return "\(width)×\(height) pixels is more than the limit of \(limit) pixels (a decompression bomb?"
                + " shrink the picture if it is genuine)"
        case .io(let message):
            return message
        case .encodingFailed(let message):
            return "cannot encode image: \(message)"
        }
    }

    /// "Corrupt JPEG data: bad Huffman code" → "corrupt JPEG data: bad Huffman code".
    static func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true else { return text }
        return first.lowercased() + text.dropFirst()
    }

    /// The first bytes of a file as readable text: ASCII as is, anything else as \xNN.
    static func printablePrefix<C: Collection>(_ bytes: C, count: Int = 9) -> String where C.Element == UInt8 {
        var text = ""
        for byte in bytes.prefix(count) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
