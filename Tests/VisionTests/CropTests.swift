// Crops: the right pixels end up in the right place, and centre crops sit where documented.
import Testing
import Vision

/// Pixel (x, y) holds (x, y, x + y): every position identifies itself.
func coordinateImage(width: Int, height: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height, fill: (0, 0, 0))
    for y in 0..<height {
        for x in 0..<width { image[x, y] = (UInt8(x), UInt8(y), UInt8(x + y)) }
    }
    return image
}

@Test func cropCopiesTheRectangle() {
    let crop = coordinateImage(width: 10, height: 8).cropped(x: 2, y: 3, width: 4, height: 2)
    #expect(crop.width == 4 && crop.height == 2)
    #expect(crop[0, 0] == (2, 3, 5))
    #expect(crop[3, 1] == (5, 4, 9))
}

@Test func centreCropCoordinates() {
    let even = coordinateImage(width: 10, height: 7)
    #expect(even.centerRect(width: 4, height: 4) == PixelRect(x: 3, y: 1, width: 4, height: 4))
    let odd = coordinateImage(width: 11, height: 8)
    #expect(odd.centerRect(width: 4, height: 4) == PixelRect(x: 3, y: 2, width: 4, height: 4))
    #expect(odd.centerCropped(width: 4, height: 4)[0, 0] == (3, 2, 5))
    #expect(odd.centerCropped(width: 11, height: 8) == odd)
}

@Test func centreSquareDropsTheSides() {
    // 40×20: left and right quarters red and blue, the centre 20×20 green.
    var image = RGBImage(width: 40, height: 20, fill: (0, 255, 0))
    for y in 0..<20 {
        for x in 0..<10 { image[x, y] = (255, 0, 0); image[39 - x, y] = (0, 0, 255) }
    }
    #expect(image.centerSquare(side: 8) == RGBImage(width: 8, height: 8, fill: (0, 255, 0)))
}
