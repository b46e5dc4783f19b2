// What a caption or query in the shapes data's own words names: one or two objects (each with
// any of size, colour, shape), how the first stands to the second or where a lone one sits, and
// the background. A query matches a picture when one of the picture's captions names
// everything the query names (a query may leave a size, a colour or the background out).
import Text

/// The attributes one phrase of the shapes grammar names; nil where it names nothing.
public struct ShapeDescription: Equatable, Sendable {
    public struct Object: Equatable, Sendable {
        public var size: String?
        public var colour: String?
        public var shape: String?
    }
    public var objects: [Object] = []
    /// "above", "below", "left", "right" (first object against the second).
    public var relation: String?
    /// "left", "right", "top", "bottom", "middle" (a lone object).
    public var place: String?
    public var background: String?

    /// Reads "a small red triangle above a large blue circle on a striped background",
    /// "on the right, a large green square …", "a black cross to the left of a white ring".
    public init(parsing text: String) {
        let words = Tokenizer().words(text)
        let sizes: Set<String> = ["small", "large"]
        let colours = Set(SynthColour.all.map(\.name))
        let shapes = Set(SynthShape.allCases.map(\.rawValue))
        var i = 0
        func at(_ k: Int) -> String? { k < words.count ? words[k] : nil }
        while i < words.count {
            let w = words[i]
            if sizes.contains(w) || colours.contains(w) || shapes.contains(w) {
                if objects.isEmpty || objects[objects.count - 1].shape != nil { objects.append(Object()) }
                if sizes.contains(w) { objects[objects.count - 1].size = w }
                else if colours.contains(w) { objects[objects.count - 1].colour = w }
                else { objects[objects.count - 1].shape = w }
            } else if w == "above" || w == "below" {
                relation = w
            } else if w == "to", at(i + 1) == "the", let side = at(i + 2), side == "left" || side == "right", at(i + 3) == "of" {
                relation = side
                i += 3
            } else if (w == "on" || w == "at" || w == "in"), at(i + 1) == "the", let where_ = at(i + 2),
                      ["left", "right", "top", "bottom", "middle"].contains(where_) {
                place = where_
                i += 2
            } else if w == "background", i >= 1, let b = at(i - 1), SynthBackground(rawValue: b) != nil {
                background = b
            }
            i += 1
        }
    }

    /// Whether `picture` (a full caption's description) has everything this one names.
    public func isSatisfied(by picture: ShapeDescription) -> Bool {
        func fits(_ a: String?, _ b: String?) -> Bool { a == nil || a == b }
        guard objects.count == picture.objects.count, fits(relation, picture.relation), fits(place, picture.place),
              fits(background, picture.background) else { return false }
        return zip(objects, picture.objects).allSatisfy {
            fits($0.size, $1.size) && fits($0.colour, $1.colour) && fits($0.shape, $1.shape)
        }
    }

    /// Whether a picture with these captions has everything `query` names.
    public static func query(_ query: String, matchesPictureWith captions: [String]) -> Bool {
        let q = ShapeDescription(parsing: query)
        return !q.objects.isEmpty && captions.contains { q.isSatisfied(by: ShapeDescription(parsing: $0)) }
    }
}
