// RGBImage ⇄ Float tensors in NHWC layout, the image tower's input. Each image is written
// straight into its slot of a caller's batch tensor through a 768-entry lookup table, so
// filling a batch costs one pass and no temporary arrays.
import Neural

/// How 8-bit channel values become floats.
public enum PixelNormalization: Equatable, Sendable, Codable {
    /// v / 127.5 − 1: every channel in [−1, 1].
    case symmetric
    /// (v / 255 − mean[c]) / std[c] for c in R, G, B.
    case meanStd(mean: [Float], std: [Float])

    /// The ImageNet statistics most pretrained vision models expect.
    public static let imageNet = PixelNormalization.meanStd(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// value = v · scale[c] + bias[c].
    var scaleAndBias: (scale: [Float], bias: [Float]) {
        switch self {
        case .symmetric:
            return ([Float](repeating: 1 / 127.5, count: 3), [Float](repeating: -1, count: 3))
        case .meanStd(let mean, let std):
            precondition(mean.count == 3 && std.count == 3 && std.allSatisfy { $0 > 0 },
                         "mean/std need 3 values and std > 0, got mean \(mean), std \(std)")
            return ((0..<3).map { 1 / (255 * std[$0]) }, (0..<3).map { -mean[$0] / std[$0] })
        }
    }

    /// The float for every (channel, byte) pair: table[c * 256 + v].
    var table: [Float] {
        let (scale, bias) = scaleAndBias
        var table = [Float](repeating: 0, count: 768)
        for c in 0..<3 {
            for v in 0..<256 { table[c * 256 + v] = Float(v) * scale[c] + bias[c] }
        }
        return table
    }
}

extension RGBImage {
    /// The image as a (1, H, W, 3) tensor.
    public func tensor(normalization: PixelNormalization) -> Tensor {
        var batch = Tensor(zeros: [1, height, width, 3])
        write(into: &batch, at: 0, normalization: normalization)
        return batch
    }

    /// Writes the image into slot `index` of an NHWC batch (N, H, W, 3) in place: a batch
    /// is filled image by image with no intermediate copies.
    public func write(into batch: inout Tensor, at index: Int, normalization: PixelNormalization) {
        precondition(batch.shape.count == 4 && batch.shape[1] == height && batch.shape[2] == width && batch.shape[3] == 3,
                     "batch of shape \(batch.shape) cannot hold a \(width)×\(height) RGB image (need [N, \(height), \(width), 3])")
        precondition(index >= 0 && index < batch.shape[0], "slot \(index) outside a batch of \(batch.shape[0])")
        let table = normalization.table
        let count = width * height * 3
        batch.withUnsafeMutableBufferPointer { out in
            let dst = out.baseAddress! + index * count
            pixels.withUnsafeBufferPointer { src in
                table.withUnsafeBufferPointer { t in
                    let r = t.baseAddress!, g = r + 256, b = r + 512
                    var i = 0
                    while i < count {
                        dst[i] = r[Int(src[i])]
                        dst[i + 1] = g[Int(src[i + 1])]
                        dst[i + 2] = b[Int(src[i + 2])]
                        i += 3
                    }
                }
            }
        }
    }

    /// Slot `index` of an NHWC batch turned back into pixels (rounded, clamped to 0...255):
    /// for contact sheets and for looking at what the model was fed.
    public init(tensor: Tensor, index: Int = 0, normalization: PixelNormalization) {
        precondition(tensor.shape.count == 4 && tensor.shape[3] == 3, "expected an NHWC tensor [N, H, W, 3], got \(tensor.shape)")
        precondition(index >= 0 && index < tensor.shape[0], "slot \(index) outside a batch of \(tensor.shape[0])")
        let height = tensor.shape[1], width = tensor.shape[2], count = width * height * 3
        let (scale, bias) = normalization.scaleAndBias
        var pixels = [UInt8](repeating: 0, count: count)
        tensor.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                let base = src.baseAddress! + index * count
                for i in 0..<count {
                    let c = i % 3
                    let v = (base[i] - bias[c]) / scale[c]
                    dst[i] = UInt8(min(max(v + 0.5, 0), 255))
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
