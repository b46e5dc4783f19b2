// The bundled default data set: pictures of coloured shapes with compositional captions
// ("a small red triangle above a large blue circle on a striped background"). Every image is a
// pure function of (seed, index), so any prefix of a set is the same set and rendering runs
// on all cores.
import Foundation
import Neural
import Vision

/// Chooses and renders the scenes of the shapes data set.
public struct ShapesSynthesizer: Sendable {
    public let seed: UInt64
    public let imageSize: Int
    /// Fraction of images holding two objects (the rest hold one).
    public var pairFraction = 0.7

    public init(seed: UInt64, imageSize: Int = 64) {
        precondition(imageSize >= 16, "shapes need at least 16×16 pixels, got \(imageSize)")
        self.seed = seed
        self.imageSize = imageSize
    }

    /// The generator for image `index`: independent of every other image.
    private func generator(for index: Int) -> SeededGenerator {
        SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(index) &* 0xD1B5_4A32_D192_ED03 &+ 1)
    }

    /// The scene of image `index`.
    public func scene(at index: Int) -> SynthScene {
        var rng = generator(for: index)
        return makeScene(using: &rng)
    }

    /// The scene of image `index` and its pixels.
    public func image(at index: Int) -> (scene: SynthScene, image: RGBImage) {
        var rng = generator(for: index)
        let scene = makeScene(using: &rng)
        return (scene, ShapeRenderer.render(scene, size: imageSize, using: &rng))
    }

    private func makeScene(using rng: inout SeededGenerator) -> SynthScene {
        let background = SynthBackground.allCases[rng.nextIndex(below: SynthBackground.allCases.count)]
        // Muted tints (a grey with a little colour) so objects stand out in every colour.
        let grey = 80 + rng.nextIndex(below: 90)
        func channel() -> UInt8 { UInt8(grey + rng.nextIndex(below: 61) - 30) }
        let tint = (channel(), channel(), channel())
        if rng.nextUnitDouble() < pairFraction {
            let relation = SynthRelation.allCases[rng.nextIndex(below: SynthRelation.allCases.count)]
            let first = pickKind(using: &rng)
            var second = pickKind(using: &rng)
            while second.shape == first.shape && second.colour == first.colour { second = pickKind(using: &rng) }
            // Along the relation's axis the first object takes one half, the second the other.
            let along = (0.25 + jitter(0.04, &rng), 0.75 + jitter(0.04, &rng))
            let across = (0.3 + 0.4 * rng.nextUnitDouble(), 0.3 + 0.4 * rng.nextUnitDouble())
            let (a, b): ((Double, Double), (Double, Double))
            switch relation {
            case .above: (a, b) = ((across.0, along.0), (across.1, along.1))
            case .below: (a, b) = ((across.0, along.1), (across.1, along.0))
            case .leftOf: (a, b) = ((along.0, across.0), (along.1, across.1))
            case .rightOf: (a, b) = ((along.1, across.0), (along.0, across.1))
            }
            let objects = [place(first, at: a, maxLarge: 0.21, using: &rng),
                           place(second, at: b, maxLarge: 0.21, using: &rng)]
            return SynthScene(objects: objects, layout: .pair(relation), background: background, backgroundTint: tint)
        }
        let where_ = SynthPlace.allCases[rng.nextIndex(below: SynthPlace.allCases.count)]
        let centre: (Double, Double)
        switch where_ {
        case .left: centre = (0.27 + jitter(0.03, &rng), 0.5 + jitter(0.12, &rng))
        case .right: centre = (0.73 + jitter(0.03, &rng), 0.5 + jitter(0.12, &rng))
        case .top: centre = (0.5 + jitter(0.12, &rng), 0.27 + jitter(0.03, &rng))
        case .bottom: centre = (0.5 + jitter(0.12, &rng), 0.73 + jitter(0.03, &rng))
        case .middle: centre = (0.5 + jitter(0.05, &rng), 0.5 + jitter(0.05, &rng))
        }
        let object = place(pickKind(using: &rng), at: centre, maxLarge: 0.24, using: &rng)
        return SynthScene(objects: [object], layout: .single(where_), background: background, backgroundTint: tint)
    }

    private func pickKind(using rng: inout SeededGenerator) -> (shape: SynthShape, colour: SynthColour, large: Bool) {
        (SynthShape.allCases[rng.nextIndex(below: SynthShape.allCases.count)],
         SynthColour.all[rng.nextIndex(below: SynthColour.all.count)],
         rng.nextIndex(below: 2) == 0)
    }

    private func place(_ kind: (shape: SynthShape, colour: SynthColour, large: Bool), at centre: (Double, Double),
                       maxLarge: Double, using rng: inout SeededGenerator) -> SynthObject {
        let radius = kind.large ? maxLarge - 0.03 * rng.nextUnitDouble() : 0.1 + 0.025 * rng.nextUnitDouble()
        return SynthObject(shape: kind.shape, colour: kind.colour, isLarge: kind.large,
                           centreX: centre.0, centreY: centre.1, radius: radius)
    }

    private func jitter(_ amount: Double, _ rng: inout SeededGenerator) -> Double {
        (rng.nextUnitDouble() * 2 - 1) * amount
    }
}
