// libFuzzer target: the model file readers on arbitrary bytes: Safetensors.decode (the container:
// header length, JSON header, dtypes, shapes, offsets) and ModelFile.read (metadata, the
// configuration and vocabulary, every tensor's shape, the fingerprint, the score calibration and
// the likelihoods it gives). Every input must be
// read or refused with a thrown error; nothing may crash, leak or allocate without bound.
// With RETRIEVE_FUZZ_SEEDS=DIR it first writes seeds there: tiny models, one calibrated.
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
    for (name, positions, calibrated) in [("tiny", true, false), ("tiny-no-positions", false, false), ("tiny-calibrated", true, true)] {
        configuration.positionEmbeddings = positions
        let vocabulary = Vocabulary.build(from: ["a red circle", "a blue square", "a green ring"])
        let model = DualEncoder(configuration: configuration, vocabulary: vocabulary, seed: 1)
        if calibrated {
            model.calibration = ScoreCalibration(matchScores: [0.5, 0.6, 0.7], otherScores: [-0.1, 0.1, 0.2, 0.55],
                                                 pictures: 3, captions: 3)
        }
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
        let (model, _) = try ModelFile.read(from: file)
        // A calibration that was read must answer for any score, in (0, 1).
        if let calibration = model.calibration {
            for score: Float in [-2, -1, 0, 0.5, 1, .nan] {
                let p = calibration.likelihood(of: score)
                if !(p > 0 && p < 1) { fatalError("likelihood \(p) at \(score)") }
            }
        }
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
