// `retrieve synth`: writes the bundled default data set (coloured shapes with compositional
// captions) to a folder.
import ArgumentParser
import Foundation
import Datasets

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate the shapes data set: pictures of coloured shapes with captions.",
        discussion: """
            Writes DIR/images/ (PNG and JPEG), DIR/captions.tsv (path<TAB>caption, two captions per picture) and DIR/split.tsv (train/val/test, 80/10/10). The same seed and count always give the same files. --json prints {"directory": path, "captions": path, "split": path, "images": N}.

            Example:
              retrieve synth --out shapes --count 3000
              retrieve train --data shapes/captions.tsv --out shapes/model.safetensors

            \(ExitStatus.table)
            """
    )

    @Option(help: "Folder to write into (created if missing).")
    var out: String

    @Option(help: "Number of pictures.")
    var count = 3000

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(help: "Side of each picture in pixels.")
    var size = 64

    @Flag(help: "Print a JSON summary instead of text.")
    var json = false

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard size >= 16 else { throw ValidationError("--size must be at least 16 pixels, got \(size)") }
    }

    func run() throws {
        let bar = ProgressBar("synth", total: count, unit: "img")
        let written = try ShapesSynthesizer(seed: seed, imageSize: size)
            .write(count: count, to: URL(fileURLWithPath: out), progress: { done, _ in bar.update(done) })
        bar.finish()
        if json {
            struct Summary: Encodable { let directory: String; let captions: String; let split: String; let images: Int }
            try Console.printJSON(Summary(directory: written.directory.path, captions: written.captions.path,
                                          split: written.split.path, images: written.images))
        } else {
            print("wrote \(counted(written.images, "picture")) to \(written.directory.path)")
            print("captions: \(written.captions.path)")
            print("split:    \(written.split.path)")
        }
    }
}
