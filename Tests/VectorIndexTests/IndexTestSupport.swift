// Shared helpers for the index tests: a Double brute-force reference with the index's tie rule,
// integer-valued data (so every dot product is exact and ties are real), tiny block sizes.
import Neural
@testable import VectorIndex

enum IndexTestSupport {
    /// The exact k best (id, score) per query: score desc, then id asc; Double arithmetic.
    static func bruteForce(_ db: Tensor, _ queries: Tensor, k: Int) -> [[SearchHit]] {
        let n = db.shape[0], d = db.shape[1]
        return (0..<queries.shape[0]).map { qi in
            var all: [(Double, Int)] = (0..<n).map { i in
                var s = 0.0
                for x in 0..<d { s += Double(db.data[i * d + x]) * Double(queries.data[qi * d + x]) }
                return (s, i)
            }
            all.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            return all.prefix(k).map { SearchHit(id: $0.1, score: Float($0.0)) }
        }
    }

    /// Integers in -2...2 as Floats: sums of products stay exact, so paths must agree bit for bit.
    static func integerMatrix(_ rows: Int, _ d: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [rows, d], data: (0..<(rows * d)).map { _ in Float(rng.nextIndex(below: 5) - 2) })
    }

    /// Block sizes small enough that every block edge is crossed.
    static func tinyBlocks(threads: Int = 2, smallQueryLimit: Int) -> SearchParameters {
        var p = SearchParameters()
        p.queryBlock = 5
        p.rowBlock = 16
        p.scanChunk = 7
        p.threads = threads
        p.smallQueryLimit = smallQueryLimit
        return p
    }
}
