// The part of a batch's (B, B) score matrix that one process works on: the rows of its own
// pictures (each against every caption) and the columns of its own captions (each against every
// picture). One process holds every row and column. In an `mpirun` job each rank holds the
// rows and columns of its share of the batch, so the loss, its gradient and the monitor's
// figures cost each rank R·B instead of B², and they add up over the ranks to the whole
// batch's (open_clip's "local loss" over gathered features).
import Neural

public struct ScoreBlock {
    /// The batch rows (pictures) and columns (captions) held, in batch numbering.
    public let rows: Range<Int>
    /// B, the whole batch.
    public let batchSize: Int
    /// (R, B): picture rows.lowerBound + r against caption j, at r·B + j.
    public let imageRows: Tensor
    /// (R, B): caption rows.lowerBound + r against picture j, at r·B + j (a column of the
    /// matrix, transposed).
    public let textRows: Tensor

    public var isWholeBatch: Bool { rows == 0..<batchSize }

    /// The scores I·Tᵀ of the (B, D) batches `image` and `text` that rows `rows` need.
    public init(image: Tensor, text: Tensor, rows: Range<Int>) {
        let b = image.rows
        precondition(image.rank == 2 && image.shape == text.shape,
                     "scores need two (B, D) batches of one shape, got \(image.shape) and \(text.shape)")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= b, "rows \(rows) of a batch of \(b)")
        (self.rows, batchSize) = (rows, b)
        if rows == 0..<b {
            imageRows = matmul(image, text, transposeB: true)
            textRows = Self.transposed(imageRows, size: b)
        } else {
            imageRows = Self.product(of: rows, of: image, with: text)
            textRows = Self.product(of: rows, of: text, with: image)
        }
    }

    /// The whole batch's block of an already computed (B, B) score matrix.
    public init(wholeBatch similarity: Tensor) {
        let b = similarity.rows
        (rows, batchSize, imageRows, textRows) = (0..<b, b, similarity, Self.transposed(similarity, size: b))
    }

    /// The index into a (B, B) duplicate mask of entry (r, j) of `imageRows` (or, with
    /// `ofText`, of `textRows`).
    @inline(__always)
    func maskIndex(row r: Int, column j: Int, ofText: Bool) -> Int {
        let i = rows.lowerBound + r
        return ofText ? j * batchSize + i : i * batchSize + j
    }

    /// dL/dI and dL/dT, (B, D) each, of a loss whose gradient with respect to `imageRows` is
    /// `gradImageRows` and to `textRows` is `gradTextRows` (nil where the loss reads only the
    /// rows). On a part of the batch, every row of both results is this block's contribution,
    /// which the ranks sum.
    func backward(gradImageRows gR: Tensor, gradTextRows gC: Tensor?, image: Tensor, text: Tensor) -> (Tensor, Tensor) {
        let b = batchSize, d = image.columns, n = rows.count
        if isWholeBatch {
            // S = I·Tᵀ with dS = gR + gCᵀ, so dI = dS·T and dT = dSᵀ·I.
            var gradS = gR
            if let gC {
                gradS.withUnsafeMutableBufferPointer { s in
                    gC.withUnsafeBufferPointer { c in
                        for i in 0..<b { for j in 0..<b { s[i * b + j] += c[j * b + i] } }
                    }
                }
            }
            return (matmul(gradS, text), matmul(gradS, image, transposeA: true))
        }
        var gradImage = Tensor(zeros: [b, d]), gradText = Tensor(zeros: [b, d])
        guard n > 0 else { return (gradImage, gradText) }
        let first = rows.lowerBound * d
        image.withUnsafeBufferPointer { i in
            text.withUnsafeBufferPointer { t in
                gradImage.withUnsafeMutableBufferPointer { di in
                    gradText.withUnsafeMutableBufferPointer { dt in
                        gR.withUnsafeBufferPointer { g in
                            // Own pictures' rows: dI[rows] = gR·T; every caption: dT += gRᵀ·I[rows].
                            gemm(.none, .none, m: n, n: d, k: b, a: g.baseAddress!, lda: b, b: t.baseAddress!, ldb: d,
                                 c: di.baseAddress! + first, ldc: d)
                            gemm(.transposed, .none, m: b, n: d, k: n, a: g.baseAddress!, lda: b,
                                 b: i.baseAddress! + first, ldb: d, c: dt.baseAddress!, ldc: d)
                        }
                        gC?.withUnsafeBufferPointer { g in
                            // Own captions' rows: dT[rows] += gC·I; every picture: dI += gCᵀ·T[rows].
                            gemm(.none, .none, m: n, n: d, k: b, a: g.baseAddress!, lda: b, b: i.baseAddress!, ldb: d,
                                 beta: 1, c: dt.baseAddress! + first, ldc: d)
                            gemm(.transposed, .none, m: b, n: d, k: n, a: g.baseAddress!, lda: b,
                                 b: t.baseAddress! + first, ldb: d, beta: 1, c: di.baseAddress!, ldc: d)
                        }
                    }
                }
            }
        }
        return (gradImage, gradText)
    }

    /// (R, B): rows `rows` of `a` times every row of `b`.
    private static func product(of rows: Range<Int>, of a: Tensor, with b: Tensor) -> Tensor {
        let d = a.columns, n = rows.count, total = b.rows
        var out = Tensor(zeros: [n, total])
        guard n > 0 else { return out }
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { o in
                    gemm(.none, .transposed, m: n, n: total, k: d, a: x.baseAddress! + rows.lowerBound * d, lda: d,
                         b: y.baseAddress!, ldb: d, c: o.baseAddress!, ldc: total)
                }
            }
        }
        return out
    }

    private static func transposed(_ m: Tensor, size b: Int) -> Tensor {
        var out = Tensor(zeros: [b, b])
        m.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<b { for j in 0..<b { o[j * b + i] = s[i * b + j] } }
            }
        }
        return out
    }
}
