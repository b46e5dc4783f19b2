// What the server tests search: a folder of synthetic shape pictures indexed with a tiny random
// model whose vocabulary is the captions' words, plus the hostile corners of a real folder: a
// symbolic link to a picture outside it (indexed, as the scanner follows links) and a picture
// changed after indexing. Built once per process; each test starts its own server on port 0.
import Foundation
import Datasets
import Neural
import Retrieval
import Search
import Text
import Vision
@testable import Serve

struct ServeFixture: @unchecked Sendable {
    let folder: URL
    let search: ImageSearch
    /// Row ids of the link out of the folder and of the picture changed since indexing.
    let outsideLink: Int
    let changed: Int
    /// An indexed picture's bytes, to upload, and its row.
    let uploadPNG: Data
    let uploadRow: Int
    /// The same index opened with the same model saved with a calibration (`calibration`); the
    /// fingerprint does not cover it, so the index accepts that file too.
    let calibratedSearch: ImageSearch

    /// Where the calibrated model's likelihood crosses 50%: the bin edge at or below the median
    /// score of "a red circle", so its results fall on both sides.
    let calibrationEdge: Float

    /// A calibration that puts 50% at `edge`: every true pair scored above it, every other below.
    static func calibration(edge: Float) -> ScoreCalibration {
        ScoreCalibration(matchScores: (0..<400).map { edge + (1 - edge) * (Float($0) + 0.5) / 400 },
                         otherScores: (0..<4000).map { edge - (1 + edge) * (Float($0) + 0.5) / 4000 },
                         pictures: 40, captions: 80)!
    }

    static let shared: ServeFixture = { try! ServeFixture(count: 40) }()

    init(count: Int) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("retrieve-serve-\(UUID().uuidString)")
        folder = base.appendingPathComponent("photos")
        let synth = ShapesSynthesizer(seed: 11, imageSize: 96)
        var words = Set<String>()
        for i in 0..<count {
            let (scene, image) = synth.image(at: i)
            for caption in scene.captions { words.formUnion(caption.lowercased().split(separator: " ").map(String.init)) }
            let sub = folder.appendingPathComponent(i % 2 == 0 ? "shapes" : "more/shapes")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try image.write(to: sub.appendingPathComponent("s\(i).\(i % 3 == 0 ? "jpg" : "png")"))
        }
        // Outside the folder, reached through a link inside it.
        let outside = base.appendingPathComponent("private.png")
        try synth.image(at: 500).image.write(to: outside)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("link-out.png"), withDestinationURL: outside)

        var config = ModelConfiguration()
        config.imageSize = 16
        config.channels = [4, 8]
        config.embeddingDimension = 16
        config.tokenDimension = 8
        config.maxTokens = 12
        let model = DualEncoder(configuration: config, vocabulary: try Vocabulary(words: words.sorted()), seed: 3)
        let modelURL = base.appendingPathComponent("model.safetensors")
        let fingerprint = try ModelFile.write(model, to: modelURL)
        let indexFile = IndexLocation.defaultFile(forFolder: folder)
        _ = try ImageIndexer(model: model, modelPath: modelURL.path, fingerprint: fingerprint).update(folder: folder, indexFile: indexFile)

        // Changed after indexing: the index still lists it with the old hash.
        let changedPath = "shapes/s2.png"
        try synth.image(at: 501).image.write(to: folder.appendingPathComponent(changedPath))

        search = try ImageSearch(indexFile: indexFile)
        var everything = SearchOptions()
        everything.k = search.index.count
        let scores = try search.search(texts: ["a red circle"], options: everything).results[0].map(\.score)
        let bins = Float(ScoreCalibration.binCount)
        calibrationEdge = ((scores[scores.count / 2] + 1) / 2 * bins).rounded(.down) / bins * 2 - 1
        model.calibration = Self.calibration(edge: calibrationEdge)
        let calibratedURL = base.appendingPathComponent("calibrated.safetensors")
        try ModelFile.write(model, to: calibratedURL)
        calibratedSearch = try ImageSearch(indexFile: indexFile, modelFile: calibratedURL)
        let paths = search.index.files.map(\.path)
        outsideLink = paths.firstIndex(of: "link-out.png")!
        changed = paths.firstIndex(of: changedPath)!
        uploadRow = paths.firstIndex(of: "shapes/s4.png")!
        uploadPNG = try Data(contentsOf: folder.appendingPathComponent("shapes/s4.png"))
    }

    /// A server over the fixture with small bounds, so the limits are cheap to hit.
    func server(calibrated: Bool = false, _ adjust: (inout ServeConfiguration) -> Void = { _ in }) -> SearchServer {
        var configuration = ServeConfiguration()
        configuration.port = 0
        configuration.maxBodyBytes = 256 << 10
        configuration.maxUploadPixels = 1_000_000
        configuration.maxURILength = 2048
        adjust(&configuration)
        return SearchServer(search: calibrated ? calibratedSearch : search, configuration: configuration)
    }
}
