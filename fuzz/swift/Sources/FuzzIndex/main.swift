// libFuzzer target: IndexFile.read on arbitrary bytes, then what a query does with what it read
// (every path of both file tables, a search of the rows). The trailer checksum over the header
// and tables is recomputed on each input first, so the fuzzer gets past it into the tables
// (a wrong trailer is refused before anything else; that check is not what is fuzzed here).
// Every input must be read or refused with an IndexFileError; nothing may crash or leak.
// With RETRIEVE_FUZZ_SEEDS=DIR it first writes seed indexes there: flat, IVF and SQ8.
import Foundation
import FuzzDriver
import Neural
import Search
import VectorIndex

private let file = URL(fileURLWithPath: "/dev/shm/retrieve-fuzz-index-\(getpid()).rtrv")

/// Writes the seeds into `folder`.
func writeSeeds(to folder: String) {
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var generator = SeededGenerator(seed: 5)
    let rows = Tensor(shape: [12, 8], data: (0..<96).map { _ in Float.random(in: -1...1, using: &generator) })
    for (name, mode, sq8) in [("flat", IndexBuildOptions.Mode.exact, false), ("ivf", .approximate, false),
                              ("flat-sq8", .exact, true), ("ivf-sq8", .approximate, true)] {
        var options = IndexBuildOptions()
        options.mode = mode
        options.scalarQuantized = sq8
        options.listCount = 3
        let url = URL(fileURLWithPath: folder).appendingPathComponent("\(name).rtrv")
        _ = try? IndexFile.write(vectors: rows, to: url, name: { "pictures/\($0).png" }, modelPath: "/models/m.safetensors",
                             modelFingerprint: "0123456789abcdef", options: options)
    }
}

/// One input: read or refused, never a crash.
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    var bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    sealTrailer(&bytes)
    guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes)) else { fatalError("cannot write \(file.path)") }
    do {
        let contents = try IndexFile.read(from: file)
        var total = 0
        for table in [contents.files, contents.rejects] {
            for i in 0..<table.count { total &+= table[i].path.utf8.count &+ Int(truncatingIfNeeded: table[i].size) }
        }
        let d = contents.storage.dimension
        let query = Tensor(shape: [1, d], data: [Float](repeating: 1 / Float(d).squareRoot(), count: d))
        switch contents.storage {
        case .flat(let flat): total &+= flat.search(query, k: 3).count
        case .ivf(let ivf): total &+= ivf.search(query, k: 3, nprobe: 2).count
        case .graph(let graph): total &+= graph.search(query, k: 3).count
        }
        if total == Int.min { print(total) }
    } catch is IndexFileError {
    } catch {
        fatalError("IndexFile.read threw \(type(of: error)), not an IndexFileError: \(error)")
    }
    return 0
}

/// Rewrites the last 8 bytes as the Checksum64 of everything but the rows (section 0) and the
/// trailer, when the header's section 0 lies inside the file.
private func sealTrailer(_ bytes: inout [UInt8]) {
    guard bytes.count >= 264 else { return }
    func u64(_ at: Int) -> Int {
        Int(clamping: bytes[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
    let offset = u64(48), length = u64(56), end = bytes.count - 8
    guard offset <= end, length <= end - offset else { return }
    var sum = Checksum64()
    bytes.withUnsafeBytes { all in
        sum.update(UnsafeRawBufferPointer(rebasing: all[0..<offset]))
        sum.update(UnsafeRawBufferPointer(rebasing: all[(offset + length)..<end]))
    }
    withUnsafeBytes(of: sum.finalize().littleEndian) { bytes.replaceSubrange(end..., with: $0) }
}

if let folder = ProcessInfo.processInfo.environment["RETRIEVE_FUZZ_SEEDS"] { writeSeeds(to: folder) }
atexit { unlink(file.path) }
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { testOneInput($0, $1) })
