// The decoded picture every part of Vision passes around: 8-bit RGB, interleaved, row-major.
// Decoders produce it (alpha already composited), encoders write it, preprocessing turns it
// into float tensors. Its byte count is always width × height × 3: the encoders hand the
// bytes to libpng and libjpeg by that size.

/// An 8-bit RGB image, pixels interleaved as R, G, B, row after row.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// R, G, B bytes, width × height × 3 of them. Read-only from outside: pixels change through
    /// the subscript or `withUnsafeMutablePixels`, which cannot change the length.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "image size \(width)×\(height)")
        precondition(pixels.count == width * height * 3,
                     "a \(width)×\(height) RGB image has \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniform image of one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = fill.0
            pixels[3 * i + 1] = fill.1
            pixels[3 * i + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Lets `body` change the bytes in place (never their number).
    public mutating func withUnsafeMutablePixels<R>(_ body: (UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try pixels.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// The colour at column x, row y.
    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        get {
            let i = 3 * (y * width + x)
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = 3 * (y * width + x)
            pixels[i] = newValue.0
            pixels[i + 1] = newValue.1
            pixels[i + 2] = newValue.2
        }
    }
}
