// libFuzzer target: the model file readers on arbitrary bytes: Safetensors.decode (the container:
// header length, JSON header, dtypes, shapes, offsets) and ModelFile.read (metadata, the
// configuration and vocabulary, every tensor's shape, the fingerprint). Every input must be
// read or refused with a thrown error; nothing may crash, leak or allocate without bound.
// With RETRIEVE_FUZZ_SEEDS=DIR it first writes a seed there: a tiny model.
import Foundation
import FuzzDriver
import Neural
import Retrieval
import Text

private let file = URL(fileURLWithPath: "/dev/shm/retrieve-fuzz-model-\(getpid()).safetensors")

/// Writes the seeds into `folder`.
func writeSeeds(to folder: String) {
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var configuration = ModelConfiguration()
    configuration.imageSize = 8
    configuration.channels = [2, 3]
    configuration.embeddingDimension = 4
    configuration.tokenDimension = 4
    configuration.maxTokens = 4
    for (name, positions) in [("tiny", true), ("tiny-no-positions", false)] {
        configuration.positionEmbeddings = positions
        let vocabulary = Vocabulary.build(from: ["a red circle", "a blue square", "a green ring"])
        let model = DualEncoder(configuration: configuration, vocabulary: vocabulary, seed: 1)
        _ = try? ModelFile.write(model, to: URL(fileURLWithPath: folder).appendingPathComponent("\(name).safetensors"))
    }
}

/// One input: read or refused, never a crash.
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    _ = try? Safetensors.decode(bytes, path: "input")
    guard FileManager.default.createFile(atPath: file.path, contents: bytes) else { fatalError("cannot write \(file.path)") }
    do {
        _ = try ModelFile.read(from: file)
    } catch is ModelFileError {
    } catch {
        fatalError("ModelFile.read threw \(type(of: error)), not a ModelFileError: \(error)")
    }
    return 0
}

if let folder = ProcessInfo.processInfo.environment["RETRIEVE_FUZZ_SEEDS"] { writeSeeds(to: folder) }
atexit { unlink(file.path) }
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { testOneInput($0, $1) })
