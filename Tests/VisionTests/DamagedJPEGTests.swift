// A JPEG whose compressed data is damaged (200 bytes of its entropy-coded segment scrambled, as
// a bad download or disk leaves it) decodes only with libjpeg guessing part of the picture. It
// is refused by default, naming libjpeg's warning, and kept with that warning on request; an
// intact JPEG carries no warning. libjpeg cannot see every such damage (a decoder that
// resynchronises decodes on without a word), so the share it catches is checked too.
import Foundation
import Neural
import Testing
@testable import Vision

struct DamagedJPEGTests {
    /// A 256×256 picture with edges and gradients everywhere (busy entropy data), as JPEG q90.
    static func jpeg() throws -> [UInt8] {
        var image = RGBImage(width: 256, height: 256, fill: (0, 0, 0))
        for y in 0..<256 {
            for x in 0..<256 {
                let ring = ((x - 128) * (x - 128) + (y - 100) * (y - 100)) / 300 % 2 == 0
                image[x, y] = (UInt8(x), UInt8((x * y) / 256), ring ? 230 : UInt8(y))
            }
        }
        return [UInt8](try image.jpegData(quality: 90))
    }

    /// Where the entropy-coded data starts (after the SOS segment) and ends (before EOI).
    static func entropyRange(_ bytes: [UInt8]) -> Range<Int> {
        let sos = (2..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA }!
        let start = sos + 2 + Int(bytes[sos + 2]) << 8 + Int(bytes[sos + 3])
        return start..<(bytes.count - 2)
    }

    /// `bytes` with `count` random bytes at `offset` of the entropy data.
    static func scrambled(_ bytes: [UInt8], at offset: Int, count: Int = 200, seed: UInt64) -> [UInt8] {
        var out = bytes, rng = SeededGenerator(seed: seed)
        let start = entropyRange(bytes).lowerBound + offset
        for i in start..<(start + count) { out[i] = UInt8(truncatingIfNeeded: rng.next()) }
        return out
    }

    @Test func anIntactJPEGHasNoDamage() throws {
        let decoded = try RGBImage.decodeKeepingDamage(Data(try Self.jpeg()))
        #expect(decoded.damage == nil && decoded.image.width == 256)
    }

    @Test func scrambledEntropyDataIsRefusedNamingLibjpegsWarning() throws {
        let clean = try Self.jpeg()
        let middle = Self.entropyRange(clean).count / 2
        let damaged = Self.scrambled(clean, at: middle, seed: 1)
        #expect {
            _ = try RGBImage(decoding: damaged, source: "photo.jpg")
        } throws: { error in
            guard let e = error as? ImageError, case .damaged(.jpeg, let reason) = e.kind else { return false }
            return reason.hasPrefix("Corrupt JPEG data") && e.description.hasPrefix("photo.jpg: damaged JPEG: part of the picture had to be guessed (corrupt JPEG data")
        }
        // Kept on request, with the same warning, and visibly not the picture that was written.
        let kept = try RGBImage.decodeKeepingDamage(Data(damaged), source: "photo.jpg")
        #expect(kept.damage?.problem.contains("corrupt JPEG data") == true)
        let original = try RGBImage(decoding: clean)
        let changed = zip(kept.image.pixels, original.pixels).filter { abs(Int($0) - Int($1)) > 40 }.count
        #expect(changed > 1000, "\(changed) bytes differ by more than 40")
    }

    @Test func mostScramblesAreNoticed() throws {
        let clean = try Self.jpeg()
        let span = Self.entropyRange(clean).count - 200
        var noticed = 0
        let trials = 60
        for t in 0..<trials {
            let bytes = Self.scrambled(clean, at: span * t / trials, seed: UInt64(t + 10))
            do {
                _ = try RGBImage(decoding: bytes)
            } catch let e as ImageError {
                switch e.kind {
                case .damaged, .corrupt, .truncated: noticed += 1
                default: Issue.record("unexpected \(e)")
                }
            }
        }
        // libjpeg resynchronises silently now and then: 14 of 2,000 such scrambles of a 256×256
        // photo mosaic, 130 of 2,000 of a 1024×1024 one went unnoticed (docs/search.md).
        #expect(noticed >= trials * 9 / 10, "\(noticed) of \(trials) damaged JPEGs noticed")
    }
}
