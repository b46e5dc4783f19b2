// Reads and decodes one batch of files on several threads into an NHWC tensor for the image
// tower, hashing each file's bytes on the way (the hash is the content stamp). A file whose
// bytes hash to a known value is not decoded at all: its row is kept.
import Foundation
import Neural
import Vision

/// One file to read: its path under the root and, when it was indexed before, the old hash. A
/// tar member comes with its bytes (read from the archive as it streamed by) and its place.
struct DecodeJob: Sendable {
    var file: ScannedFile
    var knownHash: UInt64?
    var bytes: [UInt8]? = nil
    var member: ArchiveMember? = nil
}

/// What reading a file gave.
enum DecodeOutcome: Sendable {
    /// Decoded into slot `slot` of the batch tensor; `damage` is the codec's warning when the
    /// picture is damaged and was kept anyway.
    case image(slot: Int, hash: UInt64, damage: String?)
    /// The bytes hash to the known value: keep the old row.
    case unchanged(hash: UInt64)
    /// Not decodable (or unreadable); `reason` is one line.
    case failed(reason: String, hash: UInt64)
}

struct DecodedBatch: @unchecked Sendable {
    var jobs: [DecodeJob]
    var outcomes: [DecodeOutcome]
    /// (images, S, S, 3), images in slot order.
    var tensor: Tensor
}

enum ImageBatchDecoder {
    /// Decodes `jobs` with `threads` workers into a batch prepared as `preprocessing` says;
    /// damaged pictures fail unless `keepDamaged`.
    static func decode(_ jobs: [DecodeJob], root: URL, preprocessing: Preprocessing, threads: Int,
                       keepDamaged: Bool) -> DecodedBatch {
        var results = [(RGBImage?, DecodeOutcome)](repeating: (nil, .failed(reason: "", hash: 0)), count: jobs.count)
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        results.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(threads, jobs.count))
            DispatchQueue.concurrentPerform(iterations: workers) { t in
                for i in stride(from: t, to: jobs.count, by: workers) {
                    out[i] = decodeOne(jobs[i], path: base + jobs[i].file.path, preprocessing: preprocessing,
                                       keepDamaged: keepDamaged)
                }
            }
        }
        let count = results.filter { $0.0 != nil }.count
        var tensor = Tensor(zeros: [count, preprocessing.side, preprocessing.side, 3])
        var outcomes: [DecodeOutcome] = []
        var slot = 0
        for (image, outcome) in results {
            if let image, case .image(_, let hash, let damage) = outcome {
                preprocessing.write(image, into: &tensor, at: slot)
                outcomes.append(.image(slot: slot, hash: hash, damage: damage))
                slot += 1
            } else {
                outcomes.append(outcome)
            }
        }
        return DecodedBatch(jobs: jobs, outcomes: outcomes, tensor: tensor)
    }

    private static func decodeOne(_ job: DecodeJob, path: String, preprocessing: Preprocessing,
                                  keepDamaged: Bool) -> (RGBImage?, DecodeOutcome) {
        guard let data = job.bytes.map({ Data($0) }) ?? FileManager.default.contents(atPath: path) else {
            return (nil, .failed(reason: "cannot read the file", hash: 0))
        }
        var sum = Checksum64()
        data.withUnsafeBytes { sum.update($0) }
        let hash = sum.finalize()
        if hash == job.knownHash { return (nil, .unchanged(hash: hash)) }
        do {
            let decoded = try RGBImage.decodeKeepingDamage(data, minimumShortSide: preprocessing.side, source: path)
            if let damage = decoded.damage, !keepDamaged { return (nil, .failed(reason: damage.problem, hash: hash)) }
            let image = decoded.image
            guard image.width > 0 && image.height > 0 else { return (nil, .failed(reason: "image has no pixels", hash: hash)) }
            return (preprocessing.square(image), .image(slot: 0, hash: hash, damage: decoded.damage?.problem))
        } catch let error as ImageError {
            return (nil, .failed(reason: error.problem, hash: hash))
        } catch {
            return (nil, .failed(reason: "\(error)", hash: hash))
        }
    }

    /// The file's first bytes say PNG or JPEG (unreadable files say no).
    static func looksLikeImage(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 16) else { return false }
        return ImageFormat(sniffing: head) != nil
    }
}
