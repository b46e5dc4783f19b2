// Images to NHWC tensors: the normalised values, the layout, writing into one batch slot
// without touching the others, and the way back to pixels.
import Neural
import Testing
import Vision

@Test func symmetricNormalisationMapsToMinusOneOne() {
    let image = RGBImage(width: 2, height: 1, pixels: [0, 255, 128, 64, 0, 255])
    let t = image.tensor(normalization: .symmetric)
    #expect(t.shape == [1, 1, 2, 3])
    let expected: [Float] = [-1, 1, 128 / 127.5 - 1, 64 / 127.5 - 1, -1, 1]
    #expect(zip(t.data, expected).allSatisfy { abs($0 - $1) < 1e-6 })
}

@Test func meanStdNormalisationIsPerChannel() {
    let t = RGBImage(width: 1, height: 1, pixels: [255, 0, 51]).tensor(normalization: .imageNet)
    let expected: [Float] = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225]
    #expect(zip(t.data, expected).allSatisfy { abs($0 - $1) < 1e-5 })
}

@Test func layoutIsNHWC() {
    let t = coordinateImage(width: 5, height: 3).tensor(normalization: .symmetric)
    // Element (n=0, y=2, x=4, c=1) holds the green value y = 2.
    #expect(abs(t[((0 * 3 + 2) * 5 + 4) * 3 + 1] - (2 / 127.5 - 1)) < 1e-6)
}

@Test func writingASlotLeavesTheOthersAlone() {
    let image = coordinateImage(width: 4, height: 3)
    var batch = Tensor(shape: [3, 3, 4, 3], repeating: 7)
    image.write(into: &batch, at: 1, normalization: .imageNet)
    let slot = 4 * 3 * 3
    #expect(batch.data[0..<slot].allSatisfy { $0 == 7 })
    #expect(batch.data[(2 * slot)...].allSatisfy { $0 == 7 })
    #expect(Array(batch.data[slot..<(2 * slot)]) == image.tensor(normalization: .imageNet).data)
    #expect(RGBImage(tensor: batch, index: 1, normalization: .imageNet) == image)
}

@Test func preprocessedBatchRoundTrips() {
    let images = [coordinateImage(width: 6, height: 6), checkerboard(width: 6, height: 6)]
    let batch = Preprocessing(side: 6).batch(images)
    #expect(batch.shape == [2, 6, 6, 3])
    #expect(batch.data.allSatisfy { $0 >= -1 && $0 <= 1 })
    #expect((0..<2).map { RGBImage(tensor: batch, index: $0, normalization: .symmetric) } == images)
}

@Test func preprocessingIsTheCentreSquareWithTheModelsFilterAndNormalisation() throws {
    // Pseudo-random pixels: on a smooth ramp every filter agrees.
    var wide = RGBImage(width: 12, height: 8, fill: (0, 0, 0))
    wide.withUnsafeMutablePixels { p in for i in 0..<p.count { p[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13) } }
    let bicubic = Preprocessing(side: 4, filter: .bicubic, normalization: .imageNet)
    #expect(bicubic.square(wide) == wide.centerSquare(side: 4, filter: .bicubic))
    #expect(bicubic.batch([bicubic.square(wide)]).data == wide.centerSquare(side: 4, filter: .bicubic).tensor(normalization: .imageNet).data)
    #expect(Preprocessing(side: 4).square(wide) != bicubic.square(wide), "the filter reaches the pixels")
}
