// A model on disk: one safetensors file (readable from Python) holding every weight and
// buffer, with the configuration, the vocabulary and a fingerprint in its metadata. The
// fingerprint (a checksum of configuration, vocabulary and weights) is what indexes record,
// and a file whose weights no longer match it is refused as damaged. The score calibration
// (`calibration`, JSON, with its own checksum) lies outside the fingerprint: it describes the
// weights rather than being part of them, and files without it read as before.
import Foundation
import Neural
import Text

/// Why a model file could not be used; one line naming the file.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

public enum ModelFile {
    static let format = "retrieve-model"
    static let version = "1"

    /// Writes `model` atomically (temporary file, then rename); returns its fingerprint.
    @discardableResult
    public static func write(_ model: DualEncoder, to url: URL) throws -> String {
        let tensors = namedTensors(model)
        let config = try configurationJSON(model.configuration)
        let vocabulary = String(decoding: model.vocabulary.jsonData(), as: UTF8.self)
        let fingerprint = Self.fingerprint(config: config, vocabulary: vocabulary, tensors: tensors)
        var metadata = [
            "format": format, "version": version, "config": config,
            "vocabulary": vocabulary, "fingerprint": fingerprint,
        ]
        if let calibration = model.calibration {
            let text = try calibrationJSON(calibration)
            metadata["calibration"] = text
            metadata["calibration_checksum"] = checksum(text)
        }
        try Safetensors.write(tensors, metadata: metadata, to: url)
        return fingerprint
    }

    /// Reads a model, checking format, version, the fingerprint (before building the model), and
    /// every tensor's presence and shape.
    public static func read(from url: URL) throws -> (model: DualEncoder, fingerprint: String) {
        let path = url.path
        let file: SafetensorsFile
        do {
            file = try Safetensors.read(contentsOf: url)
        } catch let error as SafetensorsError {
            throw ModelFileError(path: path, problem: "not a readable model file (\(error.description.dropFirst(path.count + 2)))")
        }
        let meta = file.metadata
        guard meta["format"] == format else {
            throw ModelFileError(path: path, problem: "a safetensors file, but not a retrieve model (no 'format: \(format)' in its metadata)")
        }
        guard meta["version"] == version else {
            throw ModelFileError(path: path, problem: "model format version \(meta["version"] ?? "?") is not supported (this retrieve reads \(version); retrain, or upgrade retrieve)")
        }
        guard let configText = meta["config"], let vocabularyText = meta["vocabulary"], let stored = meta["fingerprint"] else {
            throw ModelFileError(path: path, problem: "model metadata lacks the configuration, vocabulary or fingerprint")
        }
        let configuration: ModelConfiguration
        do {
            configuration = try JSONDecoder().decode(ModelConfiguration.self, from: Data(configText.utf8))
        } catch {
            throw ModelFileError(path: path, problem: "damaged model configuration: \(error.localizedDescription)")
        }
        if let problem = configuration.problem() { throw ModelFileError(path: path, problem: "bad configuration: \(problem)") }
        let vocabulary: Vocabulary
        do {
            vocabulary = try Vocabulary(jsonData: Data(vocabularyText.utf8), source: path)
        } catch {
            throw ModelFileError(path: path, problem: "damaged vocabulary: \(error)")
        }
        // The fingerprint first, over the tensors as stored (a model file holds exactly the
        // model's): a damaged configuration asking for billions of weights is refused before
        // they are allocated (it used to abort the process; found writing fuzz/'s model target).
        guard fingerprint(config: configText, vocabulary: vocabularyText, tensors: file.tensors) == stored else {
            throw damaged(path, stored)
        }
        let model = DualEncoder(configuration: configuration, vocabulary: vocabulary, seed: 0)
        for parameter in model.parameters + model.buffers {
            guard let tensor = file.tensors[parameter.name] else {
                throw ModelFileError(path: path, problem: "tensor '\(parameter.name)' is missing")
            }
            guard tensor.shape == parameter.shape else {
                throw ModelFileError(path: path, problem: "tensor '\(parameter.name)' has shape \(tensor.shape), the configuration needs \(parameter.shape)")
            }
            parameter.value = tensor
        }
        guard fingerprint(config: configText, vocabulary: vocabularyText, tensors: namedTensors(model)) == stored else {
            throw damaged(path, stored)  // the file holds tensors the model does not have
        }
        switch calibration(in: meta) {
        case .success(let calibration): model.calibration = calibration
        case .failure(let problem): model.calibrationWarning = "\(path): \(problem.problem); results get no likelihood (retrain to measure it again)"
        }
        return (model, stored)
    }

    /// The calibration in `metadata`: nil when there is none (older files); a failure naming
    /// the problem when it is damaged (checksum) or out of bounds. The weights load either way.
    static func calibration(in metadata: [String: String]) -> Result<ScoreCalibration?, CalibrationProblem> {
        guard let text = metadata["calibration"] else { return .success(nil) }
        guard metadata["calibration_checksum"] == checksum(text) else {
            return .failure(CalibrationProblem(problem: "its score calibration is damaged (checksum)"))
        }
        do {
            return .success(try JSONDecoder().decode(ScoreCalibration.self, from: Data(text.utf8)))
        } catch let unusable as ScoreCalibration.Unusable {
            return .failure(CalibrationProblem(problem: "its score calibration is unusable: \(unusable.problem)"))
        } catch {
            return .failure(CalibrationProblem(problem: "its score calibration is unreadable"))
        }
    }

    /// Why a stored calibration was set aside.
    struct CalibrationProblem: Error {
        let problem: String
    }

    static func calibrationJSON(_ calibration: ScoreCalibration) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(calibration), as: UTF8.self)
    }

    static func checksum(_ text: String) -> String {
        var sum = Checksum64()
        sum.update(text)
        return sum.hex
    }

    private static func damaged(_ path: String, _ stored: String) -> ModelFileError {
        ModelFileError(path: path, problem: "damaged: its configuration, vocabulary or weights do not match the fingerprint it was saved with, \(stored) (restore it from a copy or retrain)")
    }

    /// Every parameter and buffer by name.
    static func namedTensors(_ model: DualEncoder) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: (model.parameters + model.buffers).map { ($0.name, $0.value) })
    }

    static func configurationJSON(_ configuration: ModelConfiguration) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(configuration), as: UTF8.self)
    }

    /// A checksum of the configuration, the vocabulary and each tensor (name, shape, bytes) in name order.
    static func fingerprint(config: String, vocabulary: String, tensors: [String: Tensor]) -> String {
        var sum = Checksum64()
        sum.update(config)
        sum.update(vocabulary)
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            sum.update(name)
            sum.update(t.shape.map(String.init).joined(separator: ","))
            t.withUnsafeBufferPointer { sum.update(UnsafeRawBufferPointer($0)) }
        }
        return sum.hex
    }
}
