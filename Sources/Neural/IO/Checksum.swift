// A fast 64-bit checksum for large files (model weights, index rows): four independent
// multiply–rotate lanes over 8-byte words, then a final avalanche. It catches truncation and
// flipped bits at memory speed; it is not a cryptographic hash.

/// Streaming 64-bit checksum; feed bytes in any chunks, the result depends only on the bytes.
public struct Checksum64: Sendable {
    private var lanes: (UInt64, UInt64, UInt64, UInt64) =
        (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x85EB_CA77_C2B2_AE63)
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    public init() {}

    @inline(__always)
    private static func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        let x = (lane ^ word) &* 0x9FB2_1C65_1E98_DF25
        return (x << 29) | (x >> 35)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var start = 0
        if !pending.isEmpty {
            let take = min(32 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            start = take
            if pending.count == 32 {
                pending.withUnsafeBytes { consumeBlocks($0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let remaining = bytes.count - start
        let whole = remaining / 32 * 32
        if whole > 0 { consumeBlocks(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + whole)])) }
        if whole < remaining { pending.append(contentsOf: bytes[(start + whole)...]) }
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        Array(bytes).withUnsafeBytes { update($0) }
    }

    public mutating func update(_ string: String) {
        update(Array(string.utf8))
        update([0xFF])  // a separator, so ("ab", "c") and ("a", "bc") differ
    }

    /// Blocks of 32 bytes: one word per lane.
    private mutating func consumeBlocks(_ bytes: UnsafeRawBufferPointer) {
        var (a, b, c, d) = lanes
        var offset = 0
        while offset + 32 <= bytes.count {
            a = Self.round(a, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            b = Self.round(b, bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            c = Self.round(c, bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
            d = Self.round(d, bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
            offset += 32
        }
        lanes = (a, b, c, d)
    }

    /// The checksum of everything fed so far.
    public func finalize() -> UInt64 {
        var (a, b, c, d) = lanes
        for (i, byte) in pending.enumerated() {
            switch i % 4 {
            case 0: a = Self.round(a, UInt64(byte) &+ UInt64(i) << 8)
            case 1: b = Self.round(b, UInt64(byte) &+ UInt64(i) << 8)
            case 2: c = Self.round(c, UInt64(byte) &+ UInt64(i) << 8)
            default: d = Self.round(d, UInt64(byte) &+ UInt64(i) << 8)
            }
        }
        var h = a &+ (b << 1 | b >> 63) &+ (c << 2 | c >> 62) &+ (d << 3 | d >> 61) &+ length
        h ^= h >> 33; h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33; h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    /// The checksum as 16 hexadecimal digits.
    public var hex: String {
        let s = String(finalize(), radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
