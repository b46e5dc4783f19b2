// NPYReader: reads a float32 C-order 2-D .npy written by the test, copied or mapped, and names
// the file when the dtype is wrong.
import Foundation
import Testing
import Neural
@testable import VectorIndex

struct IndexNPYTests {
    /// The bytes numpy.save writes for a (rows, cols) float32 array (format 1.0).
    static func npyBytes(_ values: [Float], rows: Int, cols: Int, descr: String = "<f4") -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: Array($0)) }
        return data
    }

    @Test func readsAndMapsAFloat32Matrix() throws {
        let values: [Float] = [1, 2, 3, 4, 5, 6.5]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("m-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.npyBytes(values, rows: 2, cols: 3).write(to: URL(fileURLWithPath: path))
        let tensor = try NPYReader.read(path: path)
        #expect(tensor.shape == [2, 3] && tensor.data == values)
        let (rows, d) = try NPYReader.map(path: path)
        #expect(d == 3 && rows.isBorrowed && rows.array == values)
    }

    @Test func rejectsFloat64WithThePath() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("f8-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.npyBytes([1, 2, 3, 4], rows: 1, cols: 2, descr: "<f8").write(to: URL(fileURLWithPath: path))
        #expect { try NPYReader.read(path: path) } throws: { error in
            String(describing: error).contains(path) && String(describing: error).contains("float32")
        }
    }
}
