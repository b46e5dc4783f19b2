// The indexer's jobs as a stream of batches: first the loose files planned up front, then the
// picture members of the tar shards that changed, read one member at a time with `TarReader`
// while the previous batch is encoded, so no shard is ever held whole. A member whose bytes hash
// to its indexed value keeps its row unread by the codec; a damaged or truncated shard stops
// with a note naming it, its members read so far standing.
import Datasets
import Foundation
import Neural
import Vision

/// What became of one member of a re-read shard, in member order.
enum MemberPlan {
    /// Kept from the previous index (same bytes), with its new stamp.
    case keep(row: Int, file: IndexedFile)
    /// Known undecodable from an earlier run, same bytes: stays rejected.
    case reject(IndexedFile)
    /// Decoded by job `job`; `file` lacks only the content hash.
    case job(Int, file: IndexedFile)
}

/// Hands out the run's decode jobs batch by batch. Used from one thread at a time.
final class ArchiveJobs: @unchecked Sendable {
    struct Archive {
        var file: ScannedFile
        /// What became of its picture members, in archive order.
        var members: [MemberPlan] = []
    }

    private let root: String
    private var files: ArraySlice<DecodeJob>
    private(set) var archives: [Archive]
    private var current = 0
    private var reader: TarReader?
    /// Jobs handed out so far (their global numbers are 0..<made).
    private(set) var made = 0
    private let holds: (String) -> Bool
    private let oldRows: [String: Int]
    private let oldFiles: FileTable
    private let oldRejects: [String: IndexedFile]
    private let keepDamaged: Bool
    /// Members kept because their bytes did not change, members known undecodable.
    private(set) var touched = 0, knownUndecodable = 0
    /// Shards that could not be read to the end, and members too large to read: path and why.
    private(set) var damagedArchives: [RejectedFile] = []
    private(set) var tooLarge: [RejectedFile] = []

    /// `files`: the loose-file jobs, numbered 0…; `archives`: the shards to read, in order;
    /// `oldRows`/`oldRejects`: the previous index's rows (of `oldFiles`) and rejects by path.
    init(root: URL, files: [DecodeJob], archives: [ScannedFile], oldRows: [String: Int], oldFiles: FileTable,
         oldRejects: [String: IndexedFile], keepDamaged: Bool, holds: @escaping (String) -> Bool) {
        self.root = root.path.hasSuffix("/") ? root.path : root.path + "/"
        self.files = files[...]
        self.archives = archives.map { Archive(file: $0) }
        self.oldRows = oldRows
        self.oldFiles = oldFiles
        self.oldRejects = oldRejects
        self.keepDamaged = keepDamaged
        self.holds = holds
    }

    /// Up to `size` jobs, or nil when there are no more.
    func next(_ size: Int) -> [DecodeJob]? {
        var batch: [DecodeJob] = []
        while batch.count < size, let job = files.popFirst() { batch.append(job) }
        while batch.count < size, let job = nextMember(number: made + batch.count) { batch.append(job) }
        made += batch.count
        return batch.isEmpty ? nil : batch
    }

    /// The next member to decode from the shards (job `number`), recording the members that
    /// need no decoding.
    private func nextMember(number: Int) -> DecodeJob? {
        while current < archives.count {
            let archive = archives[current].file
            do {
                if reader == nil { reader = try TarReader(url: URL(fileURLWithPath: root + archive.path)) }
                guard let member = try reader!.next() else { finishArchive(); continue }
                if let job = plan(member, in: archive, number: number) { return job }
            } catch {
                let problem = (error as? TarError)?.problem ?? "\(error)"
                damagedArchives.append(RejectedFile(path: archive.path, reason: problem))
                finishArchive()
            }
        }
        return nil
    }

    private func finishArchive() {
        for name in reader?.skipped ?? [] {
            let path = archives[current].file.path + "/" + name
            if Self.isPicture(name: name, bytes: []) && holds(path) {
                tooLarge.append(RejectedFile(path: path, reason: "larger than \(TarReader.largestMember >> 20) MiB, not read"))
            }
        }
        reader = nil
        current += 1
    }

    /// A job for a picture member that changed or is new; nil when it needs none (not a
    /// picture, another shard's, or the same bytes as indexed).
    private func plan(_ member: TarMember, in archive: ScannedFile, number: Int) -> DecodeJob? {
        let path = archive.path + "/" + member.name
        guard holds(path), Self.isPicture(name: member.name, bytes: member.bytes) else { return nil }
        var sum = Checksum64()
        member.bytes.withUnsafeBytes { sum.update($0) }
        let hash = sum.finalize()
        let place = ArchiveMember(archivePathLength: archive.path.utf8.count, archiveSize: archive.size, offset: UInt64(member.offset))
        var file = IndexedFile(path: path, size: UInt64(member.bytes.count), modified: archive.modified, contentHash: hash, member: place)
        let oldHash = oldRows[path].map { oldFiles[$0].contentHash }
        if let row = oldRows[path], oldHash == hash {
            archives[current].members.append(.keep(row: row, file: file)); touched += 1
            return nil
        }
        if !keepDamaged, let old = oldRejects[path], old.contentHash == hash {
            archives[current].members.append(.reject(file)); knownUndecodable += 1
            return nil
        }
        file.contentHash = 0
        archives[current].members.append(.job(number, file: file))
        return DecodeJob(file: ScannedFile(path: path, size: file.size, modified: file.modified),
                         knownHash: oldHash, bytes: member.bytes, member: place)
    }

    /// A member's name says PNG or JPEG, or its bytes do (captions and metadata are not pictures).
    static func isPicture(name: String, bytes: [UInt8]) -> Bool {
        let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        if ["jpg", "jpeg", "png"].contains(ext) { return true }
        return ImageFormat(sniffing: bytes.prefix(16)) != nil
    }
}
