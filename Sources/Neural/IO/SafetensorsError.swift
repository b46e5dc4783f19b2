// Every way a safetensors file can be refused, as one typed error that names the file and
// the problem in a single line ("model.safetensors: truncated: …").

/// Why a safetensors file could not be read or written.
public struct SafetensorsError: Error, Equatable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// The file could not be opened, read, written or renamed (the system's reason).
        case io(String)
        /// Shorter than the 8-byte header length.
        case tooShort(bytes: Int)
        /// The declared header length is absurd or runs past the end of the file.
        case headerLength(declared: UInt64, fileSize: Int)
        /// The header is not a JSON object of the expected form.
        case badHeader(String)
        /// A tensor's dtype is not one this reader understands.
        case unsupportedDType(tensor: String, dtype: String)
        /// A tensor's offsets are reversed or reach past the data section.
        case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
        /// Two tensors share bytes.
        case overlapping(String, String)
        /// Bytes between tensors (or before the first) that belong to no tensor.
        case gap(before: String, bytes: Int)
        /// Shape × dtype size disagrees with the byte span.
        case sizeMismatch(tensor: String, shape: [Int], dtype: String, bytes: Int)
        /// The data section ends before the last tensor does.
        case truncated(expectedBytes: Int, actualBytes: Int)
        /// Bytes after the last tensor.
        case trailingBytes(Int)
        /// A tensor the caller asked for is absent, or has an integer dtype where floats were wanted.
        case missingTensor(String)
        case notFloat(tensor: String, dtype: String)
    }

    public let path: String
    public let problem: Problem

    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(message)" }

    private var message: String {
        switch problem {
        case .io(let reason): return reason
        case .tooShort(let bytes):
            return "not a safetensors file: \(bytes) bytes, fewer than the 8-byte header length"
        case .headerLength(let declared, let size):
            return "header length \(declared) does not fit in a file of \(size) bytes (truncated or not safetensors)"
        case .badHeader(let reason): return "bad header: \(reason)"
        case .unsupportedDType(let name, let dtype):
            return "tensor '\(name)' has dtype \(dtype); supported: F32, F64, F16, BF16, I64, I32, U8"
        case .offsetsOutOfRange(let name, let begin, let end, let size):
            return "tensor '\(name)' offsets [\(begin), \(end)] lie outside the \(size)-byte data section"
        case .overlapping(let a, let b): return "tensors '\(a)' and '\(b)' overlap"
        case .gap(let name, let bytes): return "\(bytes) unclaimed bytes before tensor '\(name)'"
        case .sizeMismatch(let name, let shape, let dtype, let bytes):
            return "tensor '\(name)' of shape \(shape) and dtype \(dtype) cannot fill \(bytes) bytes"
        case .truncated(let expected, let actual):
            return "truncated: tensors need \(expected) data bytes, the file has \(actual)"
        case .trailingBytes(let bytes): return "\(bytes) bytes after the last tensor"
        case .missingTensor(let name): return "no tensor named '\(name)'"
        case .notFloat(let name, let dtype): return "tensor '\(name)' holds \(dtype) integers, not floats"
        }
    }
}
