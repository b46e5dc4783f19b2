// Writes an (n, d) matrix as a .npy file (format 1.0, little-endian float32, C order): what
// `numpy.load` and FAISS read, and what NPYReader reads back. Written atomically.
import Foundation
import Neural

public enum NPYWriter {
    /// The bytes of a .npy file holding `rows` × `columns` floats (row-major `values`).
    public static func data(_ values: [Float], rows: Int, columns: Int) -> Data {
        precondition(values.count == rows * columns, "\(values.count) values for \(rows) × \(columns)")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // The magic, version and length take 10 bytes; NumPy pads the header with spaces and ends
        // it with a newline so that the data starts on a 64-byte boundary.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        out.append(contentsOf: header.utf8)
        values.withUnsafeBytes { raw in
            // Float is little-endian on every platform Swift runs retrieve on (x86-64, arm64).
            out.append(raw.bindMemory(to: UInt8.self))
        }
        return out
    }

    /// Writes the (n, d) `matrix` to `url` atomically.
    public static func write(_ matrix: Tensor, to url: URL) throws {
        precondition(matrix.rank == 2, "a .npy of rows needs a 2-D tensor, got \(matrix.shape)")
        try AtomicFile.write(data(matrix.data, rows: matrix.shape[0], columns: matrix.shape[1]), to: url)
    }
}
