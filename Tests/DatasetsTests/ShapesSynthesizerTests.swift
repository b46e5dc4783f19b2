import Foundation
import Vision
import Testing
@testable import Datasets

struct ShapesSynthesizerTests {
    @Test func sameSeedSameSetAndMostCaptionsUnique() {
        let a = ShapesSynthesizer(seed: 5), b = ShapesSynthesizer(seed: 5)
        var captions = Set<String>()
        for i in 0..<1000 {
            let (sceneA, imageA) = a.image(at: i)
            if i < 20 { #expect(imageA == b.image(at: i).image) }
            captions.insert(sceneA.captions[0])
        }
        #expect(captions.count > 900, "only \(captions.count) distinct captions of 1000")
        #expect(ShapesSynthesizer(seed: 6).scene(at: 0).captions != a.scene(at: 0).captions
                || ShapesSynthesizer(seed: 6).image(at: 0).image != a.image(at: 0).image)
    }

    @Test func pairCaptionsTellTheRelationBothWays() {
        let synth = ShapesSynthesizer(seed: 2)
        let scene = (0..<50).map(synth.scene(at:)).first { if case .pair = $0.layout { true } else { false } }!
        guard case .pair(let relation) = scene.layout else { return }
        #expect(scene.captions[0].contains(" \(relationPhrase(relation)) "))
        #expect(scene.captions[1].hasPrefix("a \(scene.objects[1].isLarge ? "large" : "small") \(scene.objects[1].colour.name)"))
    }

    @Test func writesPicturesCaptionsAndSplitThatReadBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try ShapesSynthesizer(seed: 1, imageSize: 24).write(count: 30, to: folder)
        let data = try TrainingData.load(captions: written.captions, preprocessing: Preprocessing(side: 24))
        #expect(data.train.count + data.validation.count + data.test.count == 30)
        #expect(data.missing.isEmpty && data.undecodable.isEmpty)
        #expect(data.dataset.captionCount == 60)
        #expect(data.splitSource.contains("split.tsv"))
        let jpegs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("images").path)
            .filter { $0.hasSuffix(".jpg") }
        #expect(jpegs.count == 10)
    }

    private func relationPhrase(_ r: SynthRelation) -> String {
        switch r {
        case .above: "above"
        case .below: "below"
        case .leftOf: "to the left of"
        case .rightOf: "to the right of"
        }
    }
}
