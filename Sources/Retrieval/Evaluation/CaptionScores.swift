// Every caption's cosine with every picture, one GEMM per block of captions, so recall and
// calibration read the same scores without holding the whole M × N matrix.
import Neural

/// Calls `body(caption, scores)` for each caption in order, `scores` holding its N cosines with
/// `images` (valid only during the call); `blockSize` captions are scored per product.
func forEachCaptionScores(captions: Tensor, images: Tensor, blockSize: Int,
                          _ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
    let n = images.shape[0], m = captions.shape[0], d = images.shape[1]
    var start = 0
    while start < m {
        let count = min(blockSize, m - start)
        let block = Tensor(shape: [count, d], data: Array(captions.data[(start * d)..<((start + count) * d)]))
        let scores = matmul(block, images, transposeB: true)  // (count, n)
        scores.withUnsafeBufferPointer { s in
            for c in 0..<count { body(start + c, UnsafeBufferPointer(rebasing: s[(c * n)..<((c + 1) * n)])) }
        }
        start += count
    }
}
