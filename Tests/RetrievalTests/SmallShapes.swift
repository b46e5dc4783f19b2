// The small, fast training setting the trainer and collapse-run tests share: generated shapes
// pictures at 32 px and a narrow CNN with a 64-d space.
import Foundation
import Vision
@testable import Retrieval
@testable import Datasets
@testable import Benchmarks

enum SmallShapes {
    static let configuration: ModelConfiguration = {
        var c = ModelConfiguration()
        c.imageSize = 32
        c.channels = [16, 32, 64]
        c.embeddingDimension = 64
        c.tokenDimension = 64
        return c
    }()

    /// The first `count` pictures (and their captions) of the shapes generator seeded `seed`.
    static func pictures(count: Int, seed: UInt64 = 3) -> (images: [RGBImage], items: [CaptionedImage]) {
        let synth = ShapesSynthesizer(seed: seed, imageSize: 32)
        var images: [RGBImage] = [], items: [CaptionedImage] = []
        for i in 0..<count {
            let (scene, image) = synth.image(at: i)
            images.append(image)
            items.append(CaptionedImage(path: "\(i).png", url: URL(fileURLWithPath: "/shapes/\(i).png"), captions: scene.captions))
        }
        return (images, items)
    }

    /// `count` pictures in one store.
    static func store(count: Int, seed: UInt64 = 3) -> ImageStore {
        let (images, items) = pictures(count: count, seed: seed)
        return ImageStore(side: 32, images: images, items: items)
    }

    /// `count` pictures split 85/15 into training and validation.
    static func stores(count: Int, seed: UInt64 = 3) -> (train: ImageStore, validation: ImageStore) {
        let (images, items) = pictures(count: count, seed: seed)
        let cut = count * 85 / 100
        return (ImageStore(side: 32, images: Array(images[..<cut]), items: Array(items[..<cut])),
                ImageStore(side: 32, images: Array(images[cut...]), items: Array(items[cut...])))
    }
}
