// What the collapse monitor reads from a batch's scores, kept as sums so that the ranks of an
// `mpirun` job, each holding its block of the matrix, add theirs up to the whole batch's: the
// monitor judges global-batch figures without any rank holding the B² scores.
import Neural

public struct ScoreSums: Sendable, Equatable {
    /// Sum of the positives (the diagonal), of the unmasked negatives and their number.
    var positive = 0.0, negative = 0.0, negatives = 0.0
    /// Sum and sum of squares of every finite score, and how many there were.
    var sum = 0.0, sumSquares = 0.0, entries = 0.0
    /// How many scores were NaN or ±Inf.
    var nonFinite = 0.0
    /// Queries (each picture among the captions, each caption among the pictures) whose partner
    /// scores highest, ties shared as in random order; what a random ranking gets; how many queries.
    var top1Hits = 0.0, top1Chance = 0.0, queries = 0.0

    /// The sums of `block`; `excluded` is the whole batch's (B, B) duplicate mask.
    public init(_ block: ScoreBlock, excluded: [Bool]?) {
        let b = block.batchSize, n = block.rows.count
        block.imageRows.withUnsafeBufferPointer { s in
            for r in 0..<n {
                let i = block.rows.lowerBound + r
                for j in 0..<b {
                    let v = Double(s[r * b + j])
                    if !v.isFinite { nonFinite += 1; continue }
                    sum += v
                    sumSquares += v * v
                    entries += 1
                    if i == j { positive += v } else if excluded?[i * b + j] != true { negative += v; negatives += 1 }
                }
            }
        }
        guard b > 1 else { (top1Hits, top1Chance, queries) = (2 * Double(n), 2 * Double(n), 2 * Double(n)); return }
        for ofText in [false, true] {
            (ofText ? block.textRows : block.imageRows).withUnsafeBufferPointer { s in
                for r in 0..<n {
                    let i = block.rows.lowerBound + r, own = s[r * b + i]
                    var ahead = 0, tied = 0, candidates = 1
                    for j in 0..<b where j != i && excluded?[block.maskIndex(row: r, column: j, ofText: ofText)] != true {
                        candidates += 1
                        let v = s[r * b + j]
                        if v > own { ahead += 1 } else if v == own || !own.isFinite { tied += 1 }
                    }
                    if ahead == 0 { top1Hits += 1 / Double(tied + 1) }
                    top1Chance += 1 / Double(candidates)
                    queries += 1
                }
            }
        }
    }

    /// The sums of a whole (B, B) score matrix.
    public init(similarity: Tensor, excluded: [Bool]?) {
        let b = similarity.rows
        precondition(similarity.shape == [b, b], "similarity must be square, got \(similarity.shape)")
        self.init(ScoreBlock(wholeBatch: similarity), excluded: excluded)
    }

    /// The sums as one buffer, for the ranks to add up.
    public var values: [Double] {
        [positive, negative, negatives, sum, sumSquares, entries, nonFinite, top1Hits, top1Chance, queries]
    }

    /// Sums from `values` (as `values` lists them).
    public init(values v: [Double]) {
        precondition(v.count == 10, "score sums are 10 values, got \(v.count)")
        (positive, negative, negatives, sum, sumSquares, entries) = (v[0], v[1], v[2], v[3], v[4], v[5])
        (nonFinite, top1Hits, top1Chance, queries) = (v[6], v[7], v[8], v[9])
    }
}
