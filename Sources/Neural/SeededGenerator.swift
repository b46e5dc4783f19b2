// The one source of chance in retrieve: a seeded xoshiro256** generator, passed explicitly
// (never global), whose whole state can be saved in a checkpoint and restored to resume exactly.
import Foundation

/// A fast, seedable generator; the same seed gives the same stream on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four words of xoshiro256** state; save them to resume a stream exactly.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Restores a generator from saved state words.
    public init(state words: [UInt64]) {
        precondition(words.count == 4, "a generator state has 4 words, got \(words.count)")
        state = (words[0], words[1], words[2], words[3])
    }

    /// The state as four words: all there is to save.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
        a.stateWords == b.stateWords
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotl(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always)
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal deviate (Box–Muller; one value per call keeps the state to four words).
    public mutating func nextNormal() -> Float {
        var u1 = nextUnitDouble()
        while u1 <= Double.leastNormalMagnitude { u1 = nextUnitDouble() }
        let u2 = nextUnitDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// An index in 0..<upperBound, without modulo bias.
    public mutating func nextIndex(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextIndex(below:) needs a positive bound, got \(upperBound)")
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// A random permutation of 0..<count (Fisher–Yates).
    public mutating func permutation(of count: Int) -> [Int] {
        var p = Array(0..<count)
        var i = count - 1
        while i > 0 {
            let j = nextIndex(below: i + 1)
            p.swapAt(i, j)
            i -= 1
        }
        return p
    }
}

