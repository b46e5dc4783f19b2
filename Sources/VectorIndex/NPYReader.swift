// Reads 2-D float32 C-order .npy files (NumPy format 1.0–3.0), the vectors FAISS's benchmark
// saves, either copied into a Tensor or memory-mapped as borrowed rows for a FlatIndex.
import Foundation
import Neural

/// A .npy file that is not a 2-D little-endian float32 C-order array; names the file and why.
public struct NPYError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

public enum NPYReader {
    /// Shape and byte offset of the data in a .npy file's bytes.
    static func header(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (rows: Int, columns: Int, offset: Int) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPYError(path: path, problem: "not a .npy file (bad magic); save arrays with numpy.save")
        }
        let major = bytes[6]
        let (lengthBytes, start): (Int, Int) = major == 1 ? (2, 10) : (4, 12)
        guard major >= 1 && major <= 3, bytes.count >= start else {
            throw NPYError(path: path, problem: "unsupported .npy version \(major)")
        }
        var length = 0
        for i in 0..<lengthBytes { length |= Int(bytes[8 + i]) << (8 * i) }
        guard start + length <= bytes.count else { throw NPYError(path: path, problem: "truncated header") }
        let text = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        guard text.contains("'descr': '<f4'") else {
            throw NPYError(path: path, problem: "dtype is not little-endian float32 ('<f4'): \(text); convert with astype(np.float32)")
        }
        guard text.contains("'fortran_order': False") else {
            throw NPYError(path: path, problem: "array is Fortran-ordered; save np.ascontiguousarray(x)")
        }
        guard let open = text.range(of: "'shape': ("), let close = text[open.upperBound...].firstIndex(of: ")") else {
            throw NPYError(path: path, problem: "no shape in header: \(text)")
        }
        let dims = text[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard dims.count == 2 else { throw NPYError(path: path, problem: "array has shape \(dims), expected 2-D (rows, d)") }
        let offset = start + length
        guard offset + dims[0] * dims[1] * 4 <= bytes.count else {
            throw NPYError(path: path, problem: "file holds \(bytes.count - offset) data bytes, shape \(dims) needs \(dims[0] * dims[1] * 4)")
        }
        return (dims[0], dims[1], offset)
    }

    /// The array as an (n, d) tensor (copied).
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        let (n, d, offset) = try header(file.bytes, path: path)
        var values = [Float](repeating: 0, count: n * d)
        values.withUnsafeMutableBytes { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + n * d * 4)]))
        }
        return Tensor(shape: [n, d], data: values)
    }

    /// The array's rows borrowed from a memory mapping (no copy) and the dimension.
    public static func map(path: String, prefault: Bool = false) throws -> (rows: RowStorage<Float>, dimension: Int) {
        let file = try MappedFile(path: path, prefault: prefault)
        let (n, d, offset) = try header(file.bytes, path: path)
        guard offset % 4 == 0 else { throw NPYError(path: path, problem: "data offset \(offset) not 4-byte aligned") }
        return (file.storage(of: Float.self, offset: offset, count: n * d), d)
    }
}
