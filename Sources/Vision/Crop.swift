// Cutting rectangles out of an RGBImage: arbitrary crops (for random-resized-crop augmentation)
// and centre crops, plus the usual evaluation preprocessing "scale the short side, then take
// the centre square". Resampling itself is in Resize.swift.

extension RGBImage {
    /// The pixels inside `rect`, copied row by row. The rectangle must lie inside the image.
    public func cropped(to rect: PixelRect) -> RGBImage {
        precondition(rect.x >= 0 && rect.y >= 0 && rect.width >= 0 && rect.height >= 0
                     && rect.x + rect.width <= width && rect.y + rect.height <= height,
                     "crop \(rect) outside a \(width)×\(height) image")
        if rect == bounds { return self }
        let rowLength = rect.width * 3
        var result = [UInt8](repeating: 0, count: rect.height * rowLength)
        pixels.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for y in 0..<rect.height {
                    let from = src.baseAddress! + ((rect.y + y) * width + rect.x) * 3
                    (dst.baseAddress! + y * rowLength).update(from: from, count: rowLength)
                }
            }
        }
        return RGBImage(width: rect.width, height: rect.height, pixels: result)
    }

    /// The pixels of the rectangle at (x, y) of size width×height.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        cropped(to: PixelRect(x: x, y: y, width: width, height: height))
    }

    /// The width×height rectangle centred in the image; when the margin is odd, the extra
    /// pixel is left on the right/bottom (origin = floor((size − crop) / 2)).
    public func centerRect(width cropWidth: Int, height cropHeight: Int) -> PixelRect {
        precondition(cropWidth > 0 && cropHeight > 0 && cropWidth <= width && cropHeight <= height,
                     "centre crop \(cropWidth)×\(cropHeight) does not fit a \(width)×\(height) image")
        return PixelRect(x: (width - cropWidth) / 2, y: (height - cropHeight) / 2,
                         width: cropWidth, height: cropHeight)
    }

    /// The centred width×height part of the image.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        cropped(to: centerRect(width: cropWidth, height: cropHeight))
    }

    /// Evaluation preprocessing: the largest centred square, resampled to side×side in one
    /// pass (the same as scaling the short side to `side` and centre-cropping).
    public func centerSquare(side: Int, filter: ResizeFilter = .bilinear) -> RGBImage {
        let square = min(width, height)
        return resized(from: centerRect(width: square, height: square), width: side, height: side, filter: filter)
    }
}
