// Training-time augmentation: a random resized crop (a random part of the picture, of random
// area and aspect, scaled back to the input size) and a colour jitter (brightness, contrast,
// saturation). Horizontal flips are off by default: captions say "left" and "right".
import Foundation
import Neural

/// How much each augmentation may change a picture; `.none` turns them all off.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Range of the crop's area as a fraction of the image.
    public var cropScale: ClosedRange<Double> = 0.7...1
    /// Range of the crop's width/height ratio (sampled log-uniformly).
    public var cropAspect: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)
    /// Largest relative change of brightness, contrast and saturation.
    public var brightness = 0.2, contrast = 0.2, saturation = 0.2
    public var horizontalFlip = false

    public init() {}

    public static var none: Augmentation {
        var a = Augmentation()
        a.cropScale = 1...1
        a.cropAspect = 1...1
        a.brightness = 0; a.contrast = 0; a.saturation = 0
        return a
    }

    /// A randomly augmented copy of `image`, side×side, resampled with `filter`.
    public func apply(to image: RGBImage, side: Int, filter: ResizeFilter, using rng: inout SeededGenerator) -> RGBImage {
        var out = image.resized(from: randomCrop(in: image, using: &rng), width: side, height: side, filter: filter)
        if horizontalFlip && rng.nextIndex(below: 2) == 1 { out = out.flippedHorizontally() }
        if brightness > 0 || contrast > 0 || saturation > 0 { jitterColours(&out, using: &rng) }
        return out
    }

    private func randomCrop(in image: RGBImage, using rng: inout SeededGenerator) -> PixelRect {
        let area = Double(image.width * image.height)
        for _ in 0..<10 {
            let target = area * (cropScale.lowerBound + (cropScale.upperBound - cropScale.lowerBound) * rng.nextUnitDouble())
            let logAspect = log(cropAspect.lowerBound) + (log(cropAspect.upperBound) - log(cropAspect.lowerBound)) * rng.nextUnitDouble()
            let aspect = exp(logAspect)
            let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
            if w >= 1 && h >= 1 && w <= image.width && h <= image.height {
                return PixelRect(x: rng.nextIndex(below: image.width - w + 1), y: rng.nextIndex(below: image.height - h + 1),
                                 width: w, height: h)
            }
        }
        return image.bounds
    }

    /// Brightness scales all channels, contrast stretches around the mean grey, saturation
    /// mixes each pixel with its own grey; one random factor each per image.
    private func jitterColours(_ image: inout RGBImage, using rng: inout SeededGenerator) {
        func factor(_ amount: Double) -> Float { Float(1 + amount * (2 * rng.nextUnitDouble() - 1)) }
        let b = factor(brightness), c = factor(contrast), s = factor(saturation)
        let n = image.width * image.height
        image.withUnsafeMutablePixels { p in
            var meanGrey: Float = 0
            for i in 0..<n { meanGrey += 0.299 * Float(p[3 * i]) + 0.587 * Float(p[3 * i + 1]) + 0.114 * Float(p[3 * i + 2]) }
            meanGrey = meanGrey * b / Float(max(1, n))
            for i in 0..<n {
                let r = Float(p[3 * i]) * b, g = Float(p[3 * i + 1]) * b, bl = Float(p[3 * i + 2]) * b
                let grey = 0.299 * r + 0.587 * g + 0.114 * bl
                @inline(__always) func adjust(_ v: Float) -> UInt8 {
                    let contrasted = meanGrey + c * (grey + s * (v - grey) - meanGrey)
                    return UInt8(min(255, max(0, contrasted.rounded())))
                }
                p[3 * i] = adjust(r)
                p[3 * i + 1] = adjust(g)
                p[3 * i + 2] = adjust(bl)
            }
        }
    }
}

extension RGBImage {
    /// The mirror image (left and right swapped).
    public func flippedHorizontally() -> RGBImage {
        var out = self
        for y in 0..<height {
            for x in 0..<width { out[x, y] = self[width - 1 - x, y] }
        }
        return out
    }
}
