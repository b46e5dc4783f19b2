import Foundation
import Testing
import Neural

/// A fresh folder per test, removed afterwards.
private final class Scratch {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID())")
    init() { try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: folder) }
    func url(_ name: String) -> URL { folder.appendingPathComponent(name) }
    var contents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()) ?? [] }
}

/// Hand-built file bytes: length prefix, header text, then raw data.
private func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var length = (declaredLength ?? UInt64(header.utf8.count)).littleEndian
    return Data(bytes: &length, count: 8) + Data(header.utf8) + Data(data)
}

private func problem(_ bytes: Data) -> SafetensorsError.Problem? {
    do {
        _ = try Safetensors.decode(bytes, path: "bad.safetensors")
        return nil
    } catch let error as SafetensorsError {
        #expect(error.description.hasPrefix("bad.safetensors: ") && !error.description.contains("\n"))
        return error.problem
    } catch {
        return nil
    }
}

struct SafetensorsTests {
    @Test func roundTripIsBitExactWithMetadataAndOrder() throws {
        let scratch = Scratch()
        let url = scratch.url("model.safetensors")
        let special: [Float] = [0, -0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                Float(bitPattern: 0x7FC0_1234), 1.0 / 3.0]
        let tensors: [(name: String, tensor: Tensor)] = [
            ("text.embed", Tensor(shape: [2, 4], data: special)),
            ("image.conv1.weight", Tensor(shape: [3, 1, 1, 2], data: (0..<6).map { Float($0) * 0.1 - 0.25 })),
            ("logit_scale", Tensor(shape: [], data: [2.6592])),
            ("empty", Tensor(zeros: [0, 3])),
        ]
        let ids = IntegerTensor(shape: [3], data: [0, -7, 1 << 40])
        let metadata = ["config": #"{"width": 256, "path": "a/b"}"#, "vocab": "héllo wörld ✓", "fingerprint": "abc123"]
        try Safetensors.write(tensors, integers: [("ids", ids)], metadata: metadata, to: url)

        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        #expect(bytes.count == 8 + Int(headerLength) + (8 + 6 + 1) * 4 + 3 * 8)

        let read = try Safetensors.read(contentsOf: url)
        #expect(read.names == ["text.embed", "image.conv1.weight", "logit_scale", "empty", "ids"])
        #expect(read.metadata == metadata)
        for (name, t) in tensors {
            let back = try read.tensor(name)
            #expect(back.shape == t.shape)
            #expect(back.data.map(\.bitPattern) == t.data.map(\.bitPattern), "\(name) not bit-exact")
        }
        #expect(try read.integerTensor("ids") == ids)
        #expect(read.dtypes["ids"] == .i64 && read.dtypes["logit_scale"] == .f32)
        #expect(scratch.contents == ["model.safetensors"], "temporary file left behind")
    }

    @Test func dictionaryWriteSortsByNameAndIsReproducible() throws {
        let scratch = Scratch()
        let tensors = ["b": Tensor(shape: [1], data: [2]), "a": Tensor(shape: [2], data: [1, 1]), "c": Tensor(zeros: [1])]
        try Safetensors.write(tensors, to: scratch.url("one.safetensors"))
        try Safetensors.write(tensors, to: scratch.url("two.safetensors"))
        #expect(try Safetensors.read(contentsOf: scratch.url("one.safetensors")).names == ["a", "b", "c"])
        #expect(try Data(contentsOf: scratch.url("one.safetensors")) == Data(contentsOf: scratch.url("two.safetensors")))
    }

    @Test func overwritingReplacesTheWholeFile() throws {
        let scratch = Scratch()
        let url = scratch.url("m.safetensors")
        try Safetensors.write(["big": Tensor(zeros: [1000])], to: url)
        try Safetensors.write(["small": Tensor(shape: [1], data: [5])], to: url)
        let read = try Safetensors.read(contentsOf: url)
        #expect(read.names == ["small"] && read.tensors["small"]?.data == [5])
        #expect(scratch.contents == ["m.safetensors"])
    }

    @Test func writingIntoAMissingFolderThrowsNamingTheFile() {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID())/m.safetensors")
        #expect {
            try Safetensors.write(["a": Tensor(zeros: [1])], to: url)
        } throws: { error in
            guard let e = error as? SafetensorsError, case .io = e.problem else { return false }
            return e.path == url.path
        }
    }

    @Test func readsAFileWrittenByPythonSafetensors() throws {
        // fixtures/safetensors/numpy.safetensors: written by safetensors 0.8.0 save_file from NumPy.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let read = try Safetensors.read(contentsOf: root.appendingPathComponent("fixtures/safetensors/numpy.safetensors"))
        #expect(read.metadata == ["format": "np", "made_by": "python safetensors"])
        #expect(try read.tensor("weight") == Tensor(shape: [2, 3], data: [-1, -0.5, 0, 0.5, 1, 1.5]))
        #expect(try read.tensor("half") == Tensor(shape: [4], data: [1, -2.5, 65504, 0x1p-24]))
        #expect(try read.tensor("double") == Tensor(shape: [1, 2], data: [0.1, -.infinity]))
        #expect(try read.tensor("scalar") == Tensor(shape: [], data: [3.25]))
        #expect(try read.integerTensor("ids") == IntegerTensor(shape: [3], data: [0, -1, 1 << 40]))
        #expect(try read.integerTensor("small_ids") == IntegerTensor(shape: [1, 2], data: [7, -8]))
        #expect(try read.integerTensor("bytes") == IntegerTensor(shape: [2], data: [0, 255]))
        #expect(read.dtypes["half"] == .f16 && read.dtypes["small_ids"] == .i32)
        #expect(throws: SafetensorsError(path: read.path, .notFloat(tensor: "ids", dtype: "I64"))) { try read.tensor("ids") }
        #expect(throws: SafetensorsError(path: read.path, .missingTensor("nope"))) { try read.tensor("nope") }
    }

    @Test func decodesBFloat16() throws {
        // 1.0 = 0x3F80, -2.0 = 0xC000 in bfloat16, little-endian.
        let header = #"{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#
        let read = try Safetensors.decode(file(header: header, data: [0x80, 0x3F, 0x00, 0xC0]), path: "bf16")
        #expect(try read.tensor("x").data == [1, -2])
    }

    @Test func rejectsTruncatedFile() throws {
        let scratch = Scratch()
        let url = scratch.url("t.safetensors")
        try Safetensors.write(["a": Tensor(zeros: [4])], to: url)
        let whole = try Data(contentsOf: url)
        #expect(problem(whole.prefix(whole.count - 4)) == .truncated(expectedBytes: 16, actualBytes: 12))
        try whole.prefix(whole.count - 4).write(to: url)
        #expect(throws: SafetensorsError(path: url.path, .truncated(expectedBytes: 16, actualBytes: 12))) {
            try Safetensors.read(contentsOf: url)
        }
        #expect(problem(whole.prefix(5)) == .tooShort(bytes: 5))
    }

    @Test func rejectsHeaderLengthBeyondTheFile() {
        #expect(problem(file(header: "{}", declaredLength: 1000)) == .headerLength(declared: 1000, fileSize: 10))
        #expect(problem(file(header: "{}", declaredLength: UInt64.max)) == .headerLength(declared: UInt64.max, fileSize: 10))
    }

    @Test(arguments: ["{not json", "[1, 2]", "", #"{"a": 3}"#, #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
                      #"{"a":{"dtype":"F32","shape":[1]}}"#, #"{"__metadata__":{"k":1}}"#])
    func rejectsMalformedHeaders(header: String) {
        guard case .badHeader = problem(file(header: header, data: [0, 0, 0, 0])) else {
            Issue.record("header \(header) was not refused as bad")
            return
        }
    }

    @Test func rejectsBadOffsets() {
        let f32 = { (name: String, shape: [Int], begin: Int, end: Int) in
            #""\#(name)":{"dtype":"F32","shape":\#(shape),"data_offsets":[\#(begin),\#(end)]}"#
        }
        let eight = [UInt8](repeating: 0, count: 8)
        #expect(problem(file(header: "{" + f32("a", [0], 4, 0) + "}", data: eight))
            == .offsetsOutOfRange(tensor: "a", begin: 4, end: 0, dataSize: 8))
        #expect(problem(file(header: "{" + f32("a", [1], 16, 20) + "}", data: eight))
            == .offsetsOutOfRange(tensor: "a", begin: 16, end: 20, dataSize: 8))
        #expect(problem(file(header: "{" + f32("a", [2], 0, 8) + "," + f32("b", [1], 4, 8) + "}", data: eight))
            == .overlapping("a", "b"))
        #expect(problem(file(header: "{" + f32("a", [1], 0, 4) + "," + f32("b", [1], 6, 10) + "}", data: eight + [0, 0]))
            == .gap(before: "b", bytes: 2))
        #expect(problem(file(header: "{" + f32("a", [1], 0, 4) + "}", data: eight)) == .trailingBytes(4))
    }

    @Test func rejectsShapeThatDoesNotFillItsBytes() {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        #expect(problem(file(header: header, data: [UInt8](repeating: 0, count: 8)))
            == .sizeMismatch(tensor: "a", shape: [3], dtype: "F32", bytes: 8))
    }

    @Test func rejectsUnknownDType() {
        let header = #"{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#
        #expect(problem(file(header: header, data: [0, 0, 0, 0])) == .unsupportedDType(tensor: "a", dtype: "F8_E4M3"))
    }
}
