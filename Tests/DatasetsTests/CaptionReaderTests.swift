// Reading each captions format from the fixtures: counts, grouping, path resolution, header
// detection, format detection, and the line numbers reported for malformed records.
import Foundation
import Testing
@testable import Datasets

struct CaptionReaderTests {
    func captions(_ d: CaptionDataset, _ path: String) -> [String]? {
        d.images.first { $0.path == path }?.captions
    }

    @Test func referenceTSVGroupsCaptionsInFileOrder() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("tsv/captions.tsv"))
        #expect(d.format == .tsv)
        #expect(d.images.map(\.path) == ["images/red.png", "images/blue.png", "images/sub/green.png"])
        #expect(captions(d, "images/red.png") == ["a red square", "crimson box (action)"])
        // A quote that does not wrap the whole field is text (the reference reads it so).
        #expect(captions(d, "images/blue.png") == ["a blue square", "\"quoted\" blue tile"])
        // Only the first tab separates: the reference's split("\t", 1).
        #expect(captions(d, "images/sub/green.png") == ["green\tsquare with a tab"])
        #expect(d.captionCount == 5 && d.warnings.isEmpty)
        #expect(d.images[2].url.path == Fixtures.url("tsv/images/sub/green.png").path)
    }

    @Test func imagesDirectoryOverridesTheCaptionsFolder() throws {
        let root = URL(fileURLWithPath: "/data/pictures")
        let d = try CaptionDataset.read(from: Fixtures.url("tsv/captions.tsv"), imagesDirectory: root)
        #expect(d.images[0].url.path == "/data/pictures/images/red.png")
    }

    @Test func headerCRLFAndDotSlashAreHandled() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("tsv/with_header.tsv"))
        #expect(d.images.count == 1)
        #expect(d.images[0].path == "images/red.png")
        #expect(d.images[0].captions == ["red one", "red two"])
    }

    @Test func csvQuotingBOMAndHeader() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("csv/captions.csv"))
        #expect(d.format == .csv)
        #expect(d.warnings.isEmpty, "\(d.warnings)")
        #expect(d.images.map(\.path) == ["images/red.png", "images/blue.png", "images/odd, name.png"])
        #expect(captions(d, "images/red.png") == ["a red square, small", "unquoted, with comma"])
        #expect(captions(d, "images/blue.png") == ["she said \"blue\"", "extra"])
        #expect(captions(d, "images/odd, name.png") == ["two\r\nlines"])
    }

    @Test func csvWithoutHeaderKeepsTheFirstRow() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("csv/no_header.csv"))
        #expect(d.images.map(\.path) == ["images/red.png", "images/blue.png"])
    }

    @Test func cocoJSON() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("coco/captions.json"))
        #expect(d.format == .coco)
        // Order of images[], captions in annotation order, trimmed; the uncaptioned image left out.
        #expect(d.images.map(\.path) == ["images/red.png", "images/blue.png"])
        #expect(captions(d, "images/red.png") == ["a red square", "Ünïcode \"red\" café"])
        #expect(captions(d, "images/blue.png") == ["a blue square", "blue again"])
        #expect(d.warnings.count == 1 && d.warnings[0].message.contains("1 image(s) have no caption"))
        #expect(d.warnings[0].line == 19)
    }

    @Test func cocoUnknownImageIdAndEmptyCaptionAreWarningsWithLines() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("coco/unknown_id.json"))
        #expect(d.captionCount == 4)
        let lines = d.warnings.compactMap(\.line)
        #expect(lines.prefix(2) == [45, 50], "\(d.warnings)")
        #expect(d.warnings[0].message.contains("unknown image id 99"))
        #expect(d.warnings[1].message.contains("empty caption"))
        #expect(d.warnings[0].description.hasSuffix("unknown_id.json:45: annotation points at unknown image id 99"))
    }

    @Test func invalidJSONIsAnErrorWithItsLine() {
        #expect(throws: CaptionDataError.self) { try CaptionDataset.read(from: Fixtures.url("coco/invalid.json")) }
        do {
            _ = try CaptionDataset.read(from: Fixtures.url("coco/invalid.json"))
        } catch let CaptionDataError.invalidJSON(file, line, column, _) {
            #expect(file.hasSuffix("invalid.json") && line == 4 && column == 12)
        } catch {
            Issue.record("wrong error \(error)")
        }
    }

    @Test func flickrTokenFile() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("flickr/Flickr8k.token.txt"))
        #expect(d.format == .flickr)
        #expect(d.images.map(\.path) == ["1000268201_693b08cb0e.jpg", "1001773457_577c3a7d70.jpg", "photo#1.jpg"])
        #expect(d.images.map(\.captions.count) == [2, 2, 1])
        #expect(captions(d, "1001773457_577c3a7d70.jpg")?.last == "More than ten captions work")
    }

    @Test func sidecarFolderRecursiveCaseInsensitive() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("sidecar"))
        #expect(d.format == .sidecar)
        #expect(d.images.map(\.path) == ["nested/Blue.JPG", "nested/green.jpeg", "red.png"])
        #expect(captions(d, "red.png") == ["a red square", "crimson box"])
        #expect(captions(d, "nested/Blue.JPG") == ["a blue square"])
        #expect(captions(d, "nested/green.jpeg") == ["green"])
        #expect(d.warnings.isEmpty)
        #expect(d.partitionByExistence().missing.isEmpty)
    }

    @Test(arguments: [
        ("tsv/malformed.tsv", [3, 5], 4),
        ("csv/malformed.csv", [3], 4),
        ("flickr/malformed.token.txt", [4, 6], 4),
    ])
    func malformedLinesAreSkippedWithTheirLineNumbers(file: String, lines: [Int], good: Int) throws {
        let d = try CaptionDataset.read(from: Fixtures.url(file))
        #expect(d.warnings.map(\.line) == lines.map { Optional($0) }, "\(d.warnings)")
        #expect(d.captionCount == good)
        #expect(d.warnings.allSatisfy { $0.file.hasSuffix(file) })
    }

    @Test func malformedMessagesSayWhatIsWrong() throws {
        let tsv = try CaptionDataset.read(from: Fixtures.url("tsv/malformed.tsv"))
        #expect(tsv.warnings[0].message.contains("missing caption"))
        #expect(tsv.warnings[1].message.contains("empty caption"))
        let csv = try CaptionDataset.read(from: Fixtures.url("csv/malformed.csv"))
        #expect(csv.warnings[0].message.contains("unbalanced quote"))
        #expect(csv.images.map(\.path) == ["images/a.png", "images/c.png", "images/d.png", "images/e.png"])
    }

    @Test func sidecarProblemsNameTheFile() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("sidecar_malformed"))
        #expect(d.images.map(\.path) == ["ok.png"])
        #expect(d.warnings.count == 2)
        #expect(d.warnings.contains { $0.file.hasSuffix("empty.txt") && $0.message.contains("empty") })
        #expect(d.warnings.contains { $0.file.hasSuffix("nocaption.png") && $0.message.contains("no caption file") })
    }

    @Test func unrecognizedFileIsAnError() {
        #expect(throws: CaptionDataError.self) { try CaptionDataset.read(from: Fixtures.url("unrecognized.txt")) }
        #expect(throws: CaptionDataError.self) { try CaptionDataset.read(from: Fixtures.url("does-not-exist.tsv")) }
    }

    @Test func mostlyMalformedFileIsAnError() throws {
        let url = try Fixtures.temporary("wrong.tsv", "a.png\tok\nb.png\nc.png\nd.png\n")
        do {
            _ = try CaptionDataset.read(from: url)
            Issue.record("a file of mostly bad lines was accepted")
        } catch let CaptionDataError.mostlyMalformed(_, malformed, valid, warnings) {
            #expect(malformed == 3 && valid == 1 && warnings.map(\.line) == [2, 3, 4])
        }
    }

    @Test func detection() throws {
        #expect(try CaptionFormat.detect(at: Fixtures.url("sidecar")) == .sidecar)
        #expect(try CaptionFormat.detect(at: Fixtures.url("coco/captions.json")) == .coco)
        #expect(try CaptionFormat.detect(at: Fixtures.url("flickr/Flickr8k.token.txt")) == .flickr)
        #expect(try CaptionFormat.detect(at: Fixtures.url("tsv/captions.tsv")) == .tsv)
        #expect(try CaptionFormat.detect(at: Fixtures.url("csv/captions.csv")) == .csv)
    }

    @Test(arguments: [
        ("image_path", "caption", true), ("relative_image_path", "caption", true), ("Image", "Text", true),
        ("file", "whatever", true), ("img", "description", true), ("col1", "caption", true),
        ("images/a.png", "caption", false), ("a.png", "text", false), ("cat", "a cat", false),
    ])
    func headerDetection(path: String, caption: String, isHeader: Bool) {
        #expect(CaptionFormat.looksLikeHeader(path: path, caption: caption) == isHeader)
    }

    @Test func existencePartition() throws {
        let d = try CaptionDataset.read(from: Fixtures.url("tsv/captions.tsv"))
        let (existing, missing) = d.partitionByExistence()
        #expect(existing.map(\.path) == ["images/red.png"])
        #expect(missing.map(\.path) == ["images/blue.png", "images/sub/green.png"])
    }
}
