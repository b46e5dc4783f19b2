// CKernels against a Double reference, for both the AVX2+FMA and the portable loops: every
// dimension class (below 8, not a multiple of 8, of 16, of 32), row counts around the 4-row
// unroll, SQ8 codes, and the argmax's first-index rule on ties.
import CKernels
import Testing
import Neural
@testable import VectorIndex

@Suite(.serialized)
struct IndexKernelsTests {
    static let dimensions = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 255, 256, 257]
    static let rowCounts = [0, 1, 3, 4, 5, 13]

    /// Runs `body` once per kernel level the processor has (portable, then AVX2 when present).
    static func atEveryLevel(_ body: (Int32) -> Void) {
        let best = rk_simd_level()
        rk_set_simd_level(0)
        body(0)
        rk_set_simd_level(2)
        if best == 2 { body(2) }
        #expect(rk_simd_level() == best)
    }

    static func floats(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(rng.nextIndex(below: 2001)) / 1000 - 1 }
    }

    /// A row scores bit for bit the same wherever it sits: first or last of a block of four, or
    /// in the n mod 4 rows after the blocks. A sharded index holds a row at another position than
    /// the whole index does, and the exact merge compares their scores with ==.
    @Test(arguments: dimensions)
    func aRowScoresTheSameAtEveryPosition(d: Int) {
        Self.atEveryLevel { level in
            let q = Self.floats(d, seed: UInt64(d) + 7), row = Self.floats(d, seed: UInt64(d) + 8)
            let codes = row.map { UInt8(($0 + 1) * 127) }
            var floatScores: [Float] = [], codeScores: [Float] = []
            for n in 1...9 {
                for position in 0..<n {
                    var rows = Self.floats(n * d, seed: UInt64(n * 31 + d))
                    var rowCodes = rows.map { UInt8(($0 + 1) * 127) }
                    for j in 0..<d { rows[position * d + j] = row[j]; rowCodes[position * d + j] = codes[j] }
                    var out = [Float](repeating: .nan, count: n)
                    rk_dot_rows(q, rows, n, d, 0.25, &out)
                    floatScores.append(out[position])
                    rk_dot_codes(q, rowCodes, n, d, 0.25, &out)
                    codeScores.append(out[position])
                }
            }
            #expect(Set(floatScores.map(\.bitPattern)).count == 1, "level \(level) d \(d): Float row scores \(Set(floatScores))")
            #expect(Set(codeScores.map(\.bitPattern)).count == 1, "level \(level) d \(d): SQ8 row scores \(Set(codeScores))")
        }
    }

    @Test(arguments: dimensions)
    func rowDotProductsMatchDoubleReference(d: Int) {
        Self.atEveryLevel { level in
            for n in Self.rowCounts {
                let q = Self.floats(d, seed: UInt64(d)), rows = Self.floats(n * d, seed: UInt64(d * 100 + n))
                var out = [Float](repeating: .nan, count: n + 1)
                rk_dot_rows(q, rows, n, d, 0.5, &out)
                for i in 0..<n {
                    var ref = 0.5
                    for j in 0..<d { ref += Double(q[j]) * Double(rows[i * d + j]) }
                    #expect(abs(Double(out[i]) - ref) <= 1e-5 * Double(d) + 1e-6, "level \(level) d \(d) n \(n) row \(i)")
                }
                #expect(out[n].isNaN, "level \(level): wrote past row \(n)")
                if n > 0 {
                    let single = rows.withUnsafeBufferPointer { rk_dot(q, $0.baseAddress!, d) }
                    #expect(abs(single + 0.5 - out[0]) <= 1e-5 * Float(d))
                }
            }
        }
    }

    @Test(arguments: dimensions)
    func codeDotProductsMatchDoubleReference(d: Int) {
        Self.atEveryLevel { level in
            for n in Self.rowCounts {
                let q = Self.floats(d, seed: UInt64(d + 7))
                var rng = SeededGenerator(seed: UInt64(d * 31 + n))
                let codes = (0..<(n * d)).map { _ in UInt8(rng.nextIndex(below: 256)) }
                var out = [Float](repeating: .nan, count: n + 1)
                rk_dot_codes(q, codes, n, d, -2, &out)
                for i in 0..<n {
                    var ref = -2.0
                    for j in 0..<d { ref += Double(q[j]) * Double(codes[i * d + j]) }
                    #expect(abs(Double(out[i]) - ref) <= 1e-3 * Double(d), "level \(level) d \(d) n \(n) row \(i)")
                }
                #expect(out[n].isNaN, "level \(level): wrote past row \(n)")
            }
        }
    }

    @Test(arguments: [1, 2, 7, 8, 9, 16, 17, 100, 4001])
    func argmaxFindsTheFirstBest(n: Int) {
        Self.atEveryLevel { level in
            // Scores on a coarse grid, so the best value occurs several times.
            var rng = SeededGenerator(seed: UInt64(n))
            let s = (0..<n).map { _ in Float(rng.nextIndex(below: 7)) }
            let h = (0..<n).map { _ in Float(rng.nextIndex(below: 3)) }
            var refBest = -Float.infinity, refArg = -1
            for j in 0..<n where s[j] - h[j] > refBest { refBest = s[j] - h[j]; refArg = j }
            var best: Float = 0
            let arg = rk_argmax_minus(s, h, n, &best)
            #expect(arg == refArg && best == refBest, "level \(level) n \(n): \(arg) \(best) vs \(refArg) \(refBest)")
            // The best placed last only: found past every full vector of 8.
            var late = [Float](repeating: 0, count: n)
            late[n - 1] = 1
            #expect(rk_argmax_minus(late, [Float](repeating: 0, count: n), n, &best) == n - 1 && best == 1)
        }
    }
}
