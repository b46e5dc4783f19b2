// Real pictures with their real names for the tests: Debian's Oxygen icon theme (package
// oxygen-icon-theme, installed by `scripts/install-deps.sh --test`), captioned from its
// file names as ../shared/bench/data/build_icons.py does ("actions/media-playback-start.png" →
// "media playback start (action)"), identical pictures kept once, decoded at 32 px. From it the
// tests build the sets users hit: one picture copied under every caption, one caption on every
// picture, captions shuffled against their pictures.
import Foundation
import Neural
import Vision
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

enum IconSet {
    static let theme = URL(fileURLWithPath: "/usr/share/icons/oxygen/base/48x48")
    static let side = 32

    /// Category folder → the label its captions end with.
    private static let labels = ["actions": "action", "apps": "application", "categories": "category",
                                 "devices": "device", "emblems": "emblem", "emotes": "emote",
                                 "mimetypes": "file type", "places": "place", "status": "status"]

    struct MissingTheme: Error, CustomStringConvertible {
        var description: String {
            "no icons at \(IconSet.theme.path): install Debian's oxygen-icon-theme (scripts/install-deps.sh --test does)"
        }
    }

    /// Every distinct icon with its captions (one per file name that shows it), decoded at 32 px,
    /// in a fixed order.
    static let all: Result<ImageStore, any Error> = Result {
        guard FileManager.default.fileExists(atPath: theme.path) else { throw MissingTheme() }
        var items: [CaptionedImage] = []
        for (category, label) in labels.sorted(by: { $0.key < $1.key }) {
            let folder = theme.appendingPathComponent(category)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".png") {
                var words = String(name.dropLast(4))
                for ch in "-_.+" { words = words.replacingOccurrences(of: String(ch), with: " ") }
                let caption = words.split(separator: " ").joined(separator: " ") + " (\(label))"
                items.append(CaptionedImage(path: "\(category)/\(name)", url: folder.appendingPathComponent(name),
                                            captions: [caption]))
            }
        }
        let decoded = ImageStore.load(items, preprocessing: Preprocessing(side: side))
        // Identical pictures (symlinks, copies) are one picture with each of their captions.
        var index: [UInt64: Int] = [:]
        var images: [RGBImage] = [], kept: [CaptionedImage] = []
        for (image, item) in zip(decoded.images, decoded.items) {
            if let at = index[DataCheck.fingerprint(image)] {
                kept[at].captions += item.captions
            } else {
                index[DataCheck.fingerprint(image)] = images.count
                images.append(image)
                kept.append(item)
            }
        }
        return ImageStore(side: side, images: images, items: kept)
    }

    /// The icons split by a hash of their path, 85% training and 15% validation.
    static func stores() throws -> (train: ImageStore, validation: ImageStore) {
        let store = try all.get()
        var train: [Int] = [], validation: [Int] = []
        for (i, item) in store.items.enumerated() {
            if fnv(item.path) % 100 < 15 { validation.append(i) } else { train.append(i) }
        }
        return (subset(store, train), subset(store, validation))
    }

    /// Every picture replaced by the first one: copies of one icon under the real captions.
    static func onePicture(_ store: ImageStore) -> ImageStore {
        ImageStore(side: store.side, images: Array(repeating: store.images[0], count: store.count), items: Array(store.items))
    }

    /// Every caption replaced by one.
    static func oneCaption(_ store: ImageStore, _ caption: String = "an icon") -> ImageStore {
        ImageStore(side: store.side, images: store.images,
                   items: store.items.map { CaptionedImage(path: $0.path, url: $0.url, captions: [caption]) })
    }

    /// The captions of each picture handed to another picture, by a seeded permutation.
    static func shuffled(_ store: ImageStore, seed: UInt64) -> ImageStore {
        var generator = SeededGenerator(seed: seed)
        let order = generator.permutation(of: store.count)
        let items = store.items.enumerated().map { i, item in
            CaptionedImage(path: item.path, url: item.url, captions: store.items[order[i]].captions)
        }
        return ImageStore(side: store.side, images: store.images, items: items)
    }

    static func subset(_ store: ImageStore, _ indices: [Int]) -> ImageStore {
        ImageStore(side: store.side, images: indices.map { store.images[$0] }, items: indices.map { store.items[$0] })
    }

    private static func fnv(_ text: String) -> UInt64 {
        text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }
}
