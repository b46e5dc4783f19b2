// The vocabulary of the bundled data set: shapes, colours, sizes, places and backgrounds,
// and how one scene (one or two objects on a textured background) is described in words.
// Drawing is ShapeRenderer's job; choosing scenes and writing files is ShapesSynthesizer's.

/// A shape the generator can draw.
public enum SynthShape: String, CaseIterable, Sendable {
    case circle, square, triangle, diamond, cross, ring
}

/// A named colour with the RGB the renderer paints it in.
public struct SynthColour: Sendable, Equatable {
    public let name: String
    public let rgb: (UInt8, UInt8, UInt8)

    public static let all: [SynthColour] = [
        SynthColour(name: "red", rgb: (215, 35, 35)),
        SynthColour(name: "green", rgb: (35, 165, 60)),
        SynthColour(name: "blue", rgb: (35, 75, 215)),
        SynthColour(name: "yellow", rgb: (240, 210, 30)),
        SynthColour(name: "purple", rgb: (145, 55, 190)),
        SynthColour(name: "orange", rgb: (245, 135, 25)),
        SynthColour(name: "white", rgb: (250, 250, 250)),
        SynthColour(name: "black", rgb: (20, 20, 20)),
    ]

    public static func == (a: SynthColour, b: SynthColour) -> Bool { a.name == b.name }
}

/// The background texture, also named in captions.
public enum SynthBackground: String, CaseIterable, Sendable {
    case plain, striped, checkered, speckled
}

/// Where a lone object sits.
public enum SynthPlace: String, CaseIterable, Sendable {
    case left, right, top, bottom, middle

    var phrase: String {
        switch self {
        case .left: "on the left"
        case .right: "on the right"
        case .top: "at the top"
        case .bottom: "at the bottom"
        case .middle: "in the middle"
        }
    }
}

/// How the first of two objects stands to the second.
public enum SynthRelation: String, CaseIterable, Sendable {
    case above, below, leftOf, rightOf

    var phrase: String {
        switch self {
        case .above: "above"
        case .below: "below"
        case .leftOf: "to the left of"
        case .rightOf: "to the right of"
        }
    }

    /// The relation seen from the other object ("A above B" is "B below A").
    var inverse: SynthRelation {
        switch self {
        case .above: .below
        case .below: .above
        case .leftOf: .rightOf
        case .rightOf: .leftOf
        }
    }
}

/// One object: what it is and where it is drawn (centre and radius as fractions of the side).
public struct SynthObject: Sendable {
    public let shape: SynthShape
    public let colour: SynthColour
    public let isLarge: Bool
    public let centreX: Double, centreY: Double, radius: Double

    var words: String { "\(isLarge ? "large" : "small") \(colour.name) \(shape.rawValue)" }
}

/// A whole picture: one or two objects on a background, and how to say it.
public struct SynthScene: Sendable {
    public enum Layout: Sendable {
        case single(SynthPlace)
        case pair(SynthRelation)
    }

    public let objects: [SynthObject]
    public let layout: Layout
    public let background: SynthBackground
    public let backgroundTint: (UInt8, UInt8, UInt8)

    /// Two captions: a plain description and a rephrasing (for a pair, told from the other
    /// object, so word order and the relation both matter).
    public var captions: [String] {
        let ground = "on a \(background.rawValue) background"
        switch layout {
        case .single(let place):
            let o = objects[0].words
            return ["a \(o) \(place.phrase) \(ground)",
                    "\(place.phrase), a \(o) \(ground)"]
        case .pair(let relation):
            let a = objects[0].words, b = objects[1].words
            return ["a \(a) \(relation.phrase) a \(b) \(ground)",
                    "a \(b) \(relation.inverse.phrase) a \(a) \(ground)"]
        }
    }
}
