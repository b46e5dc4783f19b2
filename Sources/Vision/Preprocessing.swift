// The one way a picture becomes the image tower's input, for training, evaluation, indexing
// and queries alike: decode (a JPEG at a reduced size where that is enough), take the largest
// centred square, resample it to side×side with the model's filter, and map its bytes to floats
// with the model's normalisation. The settings travel with the model, so a model is always fed
// as it was trained.
import Foundation
import Neural

/// How pictures are prepared for one model.
public struct Preprocessing: Sendable, Equatable {
    /// The square input side of the image tower, in pixels.
    public var side: Int
    public var filter: ResizeFilter
    public var normalization: PixelNormalization

    public init(side: Int, filter: ResizeFilter = .bilinear, normalization: PixelNormalization = .symmetric) {
        precondition(side > 0, "preprocessing needs a positive side, got \(side)")
        self.side = side
        self.filter = filter
        self.normalization = normalization
    }

    /// The input-sized square of a decoded picture: what training keeps and augments.
    public func square(_ image: RGBImage) -> RGBImage {
        image.centerSquare(side: side, filter: filter)
    }

    /// Decodes the file at `url` straight to its input-sized square; a damaged picture (the
    /// codec guessed part of it) is refused.
    public func square(contentsOf url: URL) throws -> RGBImage {
        square(try RGBImage(contentsOf: url, minimumShortSide: side))
    }

    /// Decodes the file at `url` to its square; a damaged picture is refused unless
    /// `keepDamaged`, and then comes back with its warning.
    public func square(contentsOf url: URL, keepDamaged: Bool) throws -> DecodedImage {
        guard keepDamaged else { return DecodedImage(image: try square(contentsOf: url), damage: nil) }
        var decoded = try RGBImage.decodeKeepingDamage(contentsOf: url, minimumShortSide: side)
        decoded.image = square(decoded.image)
        return decoded
    }

    /// Decodes `data` (named `source` in errors) straight to its input-sized square.
    public func square(decoding data: Data, source: String) throws -> RGBImage {
        square(try RGBImage(decoding: data, minimumShortSide: side, source: source))
    }

    /// Squares as one (N, side, side, 3) batch of normalised floats.
    public func batch(_ squares: [RGBImage]) -> Tensor {
        var out = Tensor(zeros: [squares.count, side, side, 3])
        for (slot, image) in squares.enumerated() { write(image, into: &out, at: slot) }
        return out
    }

    /// Writes one square into slot `slot` of an (N, side, side, 3) batch.
    public func write(_ square: RGBImage, into batch: inout Tensor, at slot: Int) {
        square.write(into: &batch, at: slot, normalization: normalization)
    }
}
