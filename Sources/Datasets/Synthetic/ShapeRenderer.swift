// Paints a SynthScene into an RGBImage: a textured background, then each object with 4×4
// supersampled edges so shapes look like shapes at 64 px. Pure pixels; no files, no randomness
// beyond the generator it is handed (texture noise).
import Foundation
import Neural
import Vision

enum ShapeRenderer {
    /// Renders `scene` at `size`×`size`; `rng` drives the background's noise only.
    static func render(_ scene: SynthScene, size: Int, using rng: inout SeededGenerator) -> RGBImage {
        var image = background(scene, size: size, using: &rng)
        for object in scene.objects { paint(object, into: &image) }
        return image
    }

    private static func background(_ scene: SynthScene, size: Int, using rng: inout SeededGenerator) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        let tint = scene.backgroundTint
        let period = 5 + rng.nextIndex(below: 6)
        let diagonal = rng.nextIndex(below: 2) == 0
        for y in 0..<size {
            for x in 0..<size {
                var shade: Int
                switch scene.background {
                case .plain:
                    shade = 0
                case .striped:
                    let t = diagonal ? (x + y) : (x - y + size)
                    shade = (t / period) % 2 == 0 ? 0 : -32
                case .checkered:
                    shade = ((x / period) + (y / period)) % 2 == 0 ? 0 : -32
                case .speckled:
                    shade = rng.nextIndex(below: 100) < 18 ? (rng.nextIndex(below: 2) == 0 ? 40 : -40) : 0
                }
                shade += rng.nextIndex(below: 13) - 6
                let i = 3 * (y * size + x)
                pixels[i] = clampByte(Int(tint.0) + shade)
                pixels[i + 1] = clampByte(Int(tint.1) + shade)
                pixels[i + 2] = clampByte(Int(tint.2) + shade)
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }

    private static func paint(_ object: SynthObject, into image: inout RGBImage) {
        let size = Double(image.width)
        let cx = object.centreX * size, cy = object.centreY * size, r = object.radius * size
        let x0 = max(0, Int(cx - r) - 1), x1 = min(image.width - 1, Int(cx + r) + 1)
        let y0 = max(0, Int(cy - r) - 1), y1 = min(image.height - 1, Int(cy + r) + 1)
        guard x0 <= x1, y0 <= y1 else { return }
        let samples = 4
        let colour = object.colour.rgb
        for y in y0...y1 {
            for x in x0...x1 {
                var inside = 0
                for sy in 0..<samples {
                    for sx in 0..<samples {
                        let px = (Double(x) + (Double(sx) + 0.5) / Double(samples) - cx) / r
                        let py = (Double(y) + (Double(sy) + 0.5) / Double(samples) - cy) / r
                        if contains(object.shape, px, py) { inside += 1 }
                    }
                }
                guard inside > 0 else { continue }
                let coverage = Double(inside) / Double(samples * samples)
                let old = image[x, y]
                image[x, y] = (blend(old.0, colour.0, coverage),
                               blend(old.1, colour.1, coverage),
                               blend(old.2, colour.2, coverage))
            }
        }
    }

    /// Whether the point (x, y), in units of the radius around the centre, is inside `shape`.
    static func contains(_ shape: SynthShape, _ x: Double, _ y: Double) -> Bool {
        switch shape {
        case .circle:
            return x * x + y * y <= 1
        case .ring:
            let d = x * x + y * y
            return d <= 1 && d >= 0.36
        case .square:
            return abs(x) <= 0.82 && abs(y) <= 0.82
        case .diamond:
            return abs(x) + abs(y) <= 1
        case .cross:
            return (abs(x) <= 0.3 && abs(y) <= 1) || (abs(y) <= 0.3 && abs(x) <= 1)
        case .triangle:
            // Apex up at (0, -1), base along y = 0.75, half-width 0.95 at the base.
            guard y >= -1 && y <= 0.75 else { return false }
            return abs(x) <= 0.95 * (y + 1) / 1.75
        }
    }

    private static func blend(_ a: UInt8, _ b: UInt8, _ t: Double) -> UInt8 {
        UInt8((Double(a) * (1 - t) + Double(b) * t).rounded())
    }

    private static func clampByte(_ v: Int) -> UInt8 { UInt8(min(255, max(0, v))) }
}
