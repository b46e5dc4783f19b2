// Resampling: shrinking averages (antialiasing), enlarging interpolates, flat colours stay
// exact, and resampling from a rectangle equals cropping then resizing.
import Testing
import Vision

/// A 1-pixel black/white checkerboard: the worst case for aliasing.
func checkerboard(width: Int, height: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height, fill: (0, 0, 0))
    for y in 0..<height {
        for x in 0..<width where (x + y) % 2 == 1 { image[x, y] = (255, 255, 255) }
    }
    return image
}

@Test(arguments: [ResizeFilter.bilinear, .bicubic])
func checkerboardShrinksToMidGrey(_ filter: ResizeFilter) {
    let small = checkerboard(width: 64, height: 64).resized(width: 16, height: 16, filter: filter)
    #expect(small.width == 16 && small.height == 16)
    // Away from the borders (where the kernel is clipped) every pixel is 127.5 ± rounding.
    for y in 1..<15 {
        for x in 1..<15 {
            let (r, g, b) = small[x, y]
            #expect(abs(Int(r) - 128) <= 1 && r == g && g == b, "(\(x), \(y)) is \(r)")
        }
    }
    // Even at the borders it is grey, never the black or white that point sampling gives.
    #expect(small.pixels.allSatisfy { abs(Int($0) - 128) <= 24 })
}

@Test func stripesShrinkToTheirAverage() {
    // Vertical stripes: 1 px red, 3 px blue, shrunk 4× horizontally → ¼ red, ¾ blue.
    var image = RGBImage(width: 64, height: 8, fill: (0, 0, 255))
    for y in 0..<8 {
        for x in stride(from: 0, to: 64, by: 4) { image[x, y] = (255, 0, 0) }
    }
    let small = image.resized(width: 16, height: 8)
    let (r, _, b) = small[8, 4]
    #expect(abs(Int(r) - 64) <= 2 && abs(Int(b) - 191) <= 2)
}

@Test(arguments: [ResizeFilter.bilinear, .bicubic])
func flatColourStaysExact(_ filter: ResizeFilter) {
    let flat = RGBImage(width: 37, height: 23, fill: (37, 140, 250))
    for (w, h) in [(5, 3), (80, 51), (37, 7), (1, 1)] {
        #expect(flat.resized(width: w, height: h, filter: filter) == RGBImage(width: w, height: h, fill: (37, 140, 250)))
    }
}

@Test func enlargingInterpolatesBilinearly() {
    let ramp = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255])
    let big = ramp.resized(width: 4, height: 1)
    #expect((0..<4).map { big[$0, 0].0 } == [0, 64, 191, 255])
}

@Test(arguments: [ResizeFilter.bilinear, .bicubic])
func resizingFromARectangleEqualsCropThenResize(_ filter: ResizeFilter) {
    var image = RGBImage(width: 50, height: 40, fill: (0, 0, 0))
    for y in 0..<40 {
        for x in 0..<50 { image[x, y] = (UInt8(x * 5), UInt8(y * 6), UInt8((x * y) % 256)) }
    }
    let rect = PixelRect(x: 7, y: 5, width: 31, height: 22)
    #expect(image.resized(from: rect, width: 12, height: 9, filter: filter)
            == image.cropped(to: rect).resized(width: 12, height: 9, filter: filter))
}

@Test func shortSideKeepsAspectRatio() {
    let image = RGBImage(width: 300, height: 200, fill: (1, 2, 3))
    let scaled = image.resized(shortSide: 100)
    #expect(scaled.width == 150 && scaled.height == 100)
    let tall = RGBImage(width: 20, height: 50, fill: (1, 2, 3)).resized(shortSide: 8)
    #expect(tall.width == 8 && tall.height == 20)
}
