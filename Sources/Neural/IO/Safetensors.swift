// Reads and writes the safetensors format of Hugging Face's Python `safetensors` library:
// an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// "__metadata__" {string: string}, padded with spaces to 8 bytes, then the raw bytes.
// Writing is atomic (temporary file in the same folder, then rename); reading checks all.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// safetensors I/O; the file layout is the Python library's, so weights open in PyTorch/NumPy.
public enum Safetensors {
    /// Python's own limit on the JSON header (100 MB); anything larger is not a real header.
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// Writes float tensors (stored as F32) and integer tensors (stored as I64) in the given
    /// order — floats first, then integers — with `metadata` as "__metadata__".
    ///
    /// The bytes go to a hidden temporary file next to `url`, are flushed, and the file is
    /// renamed over `url`: a crash leaves either the old file or the new one, never half.
    /// Names must be unique and not "__metadata__" (a programmer mistake otherwise).
    public static func write(_ tensors: [(name: String, tensor: Tensor)],
                             integers: [(name: String, tensor: IntegerTensor)] = [],
                             metadata: [String: String] = [:], to url: URL) throws {
        let names = tensors.map(\.name) + integers.map(\.name)
        precondition(Set(names).count == names.count, "duplicate tensor names in \(names)")
        precondition(!names.contains("__metadata__"), "'__metadata__' is reserved for metadata")

        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in tensors {
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]] as [String: Any]
            offset += t.count * 4
        }
        for (name, t) in integers {
            header[name] = ["dtype": "I64", "shape": t.shape, "data_offsets": [offset, offset + t.data.count * 8]] as [String: Any]
            offset += t.data.count * 8
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var length = UInt64(json.count).littleEndian
        let prefix = Data(bytes: &length, count: 8) + json

        do {
            try AtomicFile.write(to: url) { sink in
                try prefix.withUnsafeBytes { try sink($0) }
                for (_, t) in tensors { try t.withUnsafeBufferPointer { try sink(UnsafeRawBufferPointer($0)) } }
                for (_, t) in integers { try t.data.withUnsafeBufferPointer { try sink(UnsafeRawBufferPointer($0)) } }
            }
        } catch let error as FileWriteError {
            throw SafetensorsError(path: error.path, .io(error.reason))
        }
    }

    /// Writes float tensors sorted by name (the order Python's `save_file` readers expect
    /// nothing of, but it makes files reproducible byte for byte).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try write(tensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }, metadata: metadata, to: url)
    }

    /// Reads and validates a whole file: header length, JSON, dtypes, shapes against byte
    /// spans, offsets contiguous from 0 to the end of the file. Any fault is a `SafetensorsError`.
    public static func read(contentsOf url: URL) throws -> SafetensorsFile {
        // Refused before reading: Data(contentsOf:) leaks its 4 KiB buffer on an empty file
        // (swift-foundation in Swift 6.3; found by fuzz/).
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int, size < 8 {
            throw SafetensorsError(path: url.path, .tooShort(bytes: size))
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafetensorsError(path: url.path, .io("cannot read: \(error.localizedDescription)"))
        }
        return try decode(data, path: url.path)
    }

    /// Decodes the bytes of a safetensors file; `path` only names it in errors.
    public static func decode(_ data: Data, path: String) throws -> SafetensorsFile {
        func fail(_ problem: SafetensorsError.Problem) -> SafetensorsError { SafetensorsError(path: path, problem) }
        guard data.count >= 8 else { throw fail(.tooShort(bytes: data.count)) }
        let declared = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared <= maximumHeaderLength, declared <= UInt64(data.count - 8) else {
            throw fail(.headerLength(declared: declared, fileSize: data.count))
        }
        let headerEnd = 8 + Int(declared)
        let entries = try SafetensorsHeader.parse(data.subdata(in: 8..<headerEnd), path: path)
        try SafetensorsHeader.checkLayout(entries.tensors, dataSize: data.count - headerEnd, path: path)

        var floats: [String: Tensor] = [:], integers: [String: IntegerTensor] = [:], dtypes: [String: SafetensorsDType] = [:]
        data.withUnsafeBytes { raw in
            for e in entries.tensors {
                let start = raw.baseAddress! + headerEnd + e.begin
                let count = e.shape.reduce(1, *)
                dtypes[e.name] = e.dtype
                if e.dtype.isFloatingPoint {
                    floats[e.name] = Tensor(shape: e.shape, data: decodeFloats(start, count: count, dtype: e.dtype))
                } else {
                    integers[e.name] = IntegerTensor(shape: e.shape, data: decodeIntegers(start, count: count, dtype: e.dtype))
                }
            }
        }
        return SafetensorsFile(path: path, metadata: entries.metadata, names: entries.tensors.map(\.name),
                               dtypes: dtypes, tensors: floats, integerTensors: integers)
    }
}
