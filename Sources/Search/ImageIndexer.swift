// Incremental indexing of a folder: scan, compare with the previous index's stamps (size and
// modification time; the content hash when those differ), decode and encode only new or
// changed pictures — the next batch decoding while the image tower runs — drop deleted ones,
// and write the index atomically. An unchanged folder is scanned and left alone (no write).
import Foundation
import Neural
import Retrieval

/// A picture that could not be used, and why (one line).
public struct RejectedFile: Sendable, Equatable {
    public var path: String
    public var reason: String
}

/// What an indexing run did.
public struct IndexingReport: Sendable {
    public var indexFile: URL
    /// Rows in the index after the run.
    public var rows = 0
    public var added = 0, changed = 0, removed = 0, unchanged = 0
    /// Files whose size or time changed but whose bytes did not: kept, stamps refreshed.
    public var touched = 0
    /// Paths encoded by the image tower in this run, in order.
    public var encodedPaths: [String] = []
    /// Undecodable (or damaged and refused) pictures met in this run.
    public var undecodable: [RejectedFile] = []
    /// Damaged pictures indexed anyway (`keepDamaged`), with the codec's warning.
    public var damaged: [RejectedFile] = []
    /// Pictures known undecodable from an earlier run and unchanged since: skipped silently.
    public var knownUndecodable = 0
    /// Files whose bytes are neither PNG nor JPEG.
    public var nonImages = 0
    /// Tar shards that could not be read to the end (damaged or truncated): the shard and why;
    /// the members before the damage are indexed.
    public var damagedArchives: [RejectedFile] = []
    /// Everything was re-encoded because the model differs from the one the index records.
    public var modelChanged = false
    /// Why the previous index was not used (damaged, another folder), when it was not.
    public var previousIndexProblem: String?
    /// `IndexStorage.kindDescription` of the written (or untouched) index.
    public var storage = ""
    public var wroteFile = false
    public var encodeSeconds = 0.0
    public var seconds = 0.0
}

/// Builds and updates the index of a folder with one model.
public struct ImageIndexer {
    public let model: DualEncoder
    public let modelPath: String
    public let fingerprint: String
    /// Pictures per image-tower call.
    public var batchSize = 256
    /// Decoding threads (they overlap the tower's GEMMs).
    public var decodeThreads = Threads.count
    public var build = IndexBuildOptions()
    /// Index damaged pictures (the codec guessed part of them) instead of refusing them; files
    /// refused by an earlier run are tried again.
    public var keepDamaged = false
    /// Index only the files of this shard (`IndexShard.holds`) into `indexFile`; nil: every file.
    /// The previous file of the same shard is the one compared with, so re-indexing is
    /// incremental per shard.
    public var shard: IndexShard? = nil

    public init(model: DualEncoder, modelPath: String, fingerprint: String) {
        self.model = model
        self.modelPath = modelPath
        self.fingerprint = fingerprint
    }

    /// Brings `indexFile` up to date with `folder`; `progress(encoded, toEncode)` after each batch.
    /// A previous index that fails any check (rows included) is not used: every picture is
    /// encoded again and `previousIndexProblem` says why.
    public func update(folder: URL, indexFile: URL, progress: (Int, Int) -> Void = { _, _ in }) throws -> IndexingReport {
        try update(IndexSource(folder: folder), indexFile: indexFile, progress: progress)
    }

    /// Brings `indexFile` up to date with `source`: its loose pictures and the picture members
    /// of its tar shards. A shard whose size and time match the index keeps its rows unread; a
    /// changed one is read again and only its members with other bytes are encoded.
    public func update(_ source: IndexSource, indexFile: URL, progress: (Int, Int) -> Void = { _, _ in }) throws -> IndexingReport {
        let start = Date()
        let root = source.root
        var report = IndexingReport(indexFile: indexFile)
        var scanned = try source.scan()
        if let shard { scanned = scanned.filter { IndexSource.isArchive($0.path) || shard.holds($0.path) } }
        var previous: IndexContents?
        if FileManager.default.fileExists(atPath: indexFile.path) {
            do { previous = try IndexFile.read(from: indexFile) } catch {
                report.previousIndexProblem = (error as? IndexFileError).map { "\($0.path): \($0.problem)" } ?? "\(error)"
            }
        }
        if let p = previous, IndexLocation.resolveRoot(p.root, indexFile: indexFile).path != root.path {
            report.previousIndexProblem = "\(indexFile.path) indexed another folder (\(p.root)); starting afresh"
            previous = nil
        }
        let d = model.configuration.embeddingDimension
        let usable = previous.flatMap { $0.modelFingerprint == fingerprint && $0.storage.dimension == d ? $0 : nil }
        report.modelChanged = previous != nil && usable == nil
        let old = PreviousFiles(files: usable?.files ?? FileTable(), rejects: previous?.rejects ?? FileTable())

        // Plan: per scanned file, a kept row, a known reject, a decode job, a shard, or nothing (not an image).
        enum Plan { case keep(Int), job(Int), archive(Int), keptArchive(String), none }
        var plans: [Plan] = [], fileJobs: [DecodeJob] = [], rejects: [IndexedFile] = [], changedArchives: [ScannedFile] = []
        let base = root.path + "/"
        for file in scanned {
            if IndexSource.isArchive(file.path) {
                if usable != nil, old.archiveUnchanged(file), !(keepDamaged && old.archiveRejects[file.path] != nil) {
                    plans.append(.keptArchive(file.path))
                    report.unchanged += old.archiveRows[file.path]?.count ?? 0
                    report.knownUndecodable += old.archiveRejects[file.path]?.count ?? 0
                } else {
                    plans.append(.archive(changedArchives.count)); changedArchives.append(file)
                }
            } else if let row = old.rows[file.path] {
                let o = usable!.files[row]
                if o.size == file.size && o.modified == file.modified {
                    plans.append(.keep(row)); report.unchanged += 1
                } else {
                    plans.append(.job(fileJobs.count)); fileJobs.append(DecodeJob(file: file, knownHash: o.contentHash))
                }
            } else if !keepDamaged, let r = old.rejects[file.path], r.size == file.size, r.modified == file.modified {
                rejects.append(r); report.knownUndecodable += 1; plans.append(.none)
            } else if ImageBatchDecoder.looksLikeImage(base + file.path) {
                plans.append(.job(fileJobs.count)); fileJobs.append(DecodeJob(file: file, knownHash: nil))
            } else {
                report.nonImages += 1; plans.append(.none)
            }
        }
        let shard = self.shard
        let stream = ArchiveJobs(root: root, files: fileJobs, archives: changedArchives, oldRows: old.rows,
                                 oldFiles: usable?.files ?? FileTable(), oldRejects: old.rejects, keepDamaged: keepDamaged,
                                 holds: { shard?.holds($0) ?? true })

        // Decode and encode the jobs, batch by batch: batch b+1 is read and decoded while batch b is encoded.
        let encodeStart = Date()
        var jobs: [DecodeJob] = [], outcomes: [DecodeOutcome] = []
        var newRows: [Float] = []  // row of job j at j·d
        let preprocessing = model.configuration.preprocessing
        let keep = keepDamaged, size = batchSize, threads = decodeThreads
        let decode = { (batch: [DecodeJob]) in
            ImageBatchDecoder.decode(batch, root: root, preprocessing: preprocessing, threads: threads, keepDamaged: keep)
        }
        var next: DecodedBatch? = stream.next(size).map(decode)
        while let current = next {
            let group = DispatchGroup()
            let box = BatchBox()
            DispatchQueue.global().async(group: group) { box.batch = stream.next(size).map(decode) }
            let embeddings = current.tensor.shape[0] > 0 ? model.embedImages(current.tensor) : Tensor(zeros: [0, d])
            for (i, outcome) in current.outcomes.enumerated() {
                var job = current.jobs[i]
                job.bytes = nil
                jobs.append(job); outcomes.append(outcome)
                if case .image(let slot, _, _) = outcome {
                    newRows.append(contentsOf: embeddings.data[(slot * d)..<((slot + 1) * d)])
                    report.encodedPaths.append(job.file.path)
                } else {
                    newRows.append(contentsOf: repeatElement(0, count: d))
                }
            }
            group.wait()
            next = box.batch
            progress(jobs.count, max(jobs.count, stream.made))
        }
        report.encodeSeconds = Date().timeIntervalSince(encodeStart)
        report.touched += stream.touched
        report.knownUndecodable += stream.knownUndecodable
        report.damagedArchives = stream.damagedArchives
        report.undecodable += stream.tooLarge

        // Assemble rows and stamps in path order (a shard's members in archive order).
        var files: [IndexedFile] = []
        var sources: [(old: Int?, job: Int?)] = []
        func settle(_ j: Int, _ stamp: (UInt64) -> IndexedFile) {
            let path = jobs[j].file.path
            switch outcomes[j] {
            case .image(_, let hash, let damage):
                files.append(stamp(hash)); sources.append((nil, j))
                if let damage { report.damaged.append(RejectedFile(path: path, reason: damage)) }
                if jobs[j].knownHash == nil { report.added += 1 } else { report.changed += 1 }
            case .unchanged(let hash):
                files.append(stamp(hash)); sources.append((old.rows[path]!, nil)); report.touched += 1
            case .failed(let reason, let hash):
                rejects.append(stamp(hash))
                report.undecodable.append(RejectedFile(path: path, reason: reason))
            }
        }
        for (file, plan) in zip(scanned, plans) {
            switch plan {
            case .none: continue
            case .keep(let row):
                files.append(usable!.files[row]); sources.append((row, nil))
            case .keptArchive(let path):
                for row in old.archiveRows[path] ?? [] { files.append(usable!.files[row]); sources.append((row, nil)) }
                rejects += old.archiveRejects[path] ?? []
            case .job(let j):
                settle(j) { IndexedFile(path: file.path, size: file.size, modified: file.modified, contentHash: $0) }
            case .archive(let k):
                for member in stream.archives[k].members {
                    switch member {
                    case .keep(let row, let stamp): files.append(stamp); sources.append((row, nil))
                    case .reject(let stamp): rejects.append(stamp)
                    case .job(let j, let stamp): settle(j) { var s = stamp; s.contentHash = $0; return s }
                    }
                }
            }
        }
        let present = Set(files.lazy.map(\.path))
        report.removed = old.rows.keys.filter { !present.contains($0) }.count
        report.rows = files.count
        let kind = build.kind(rows: files.count)
        if kind == .graph {
            // A graph grows by adding rows at the end: kept rows stay where they were, in front.
            let order = sources.indices.sorted { a, b in
                switch (sources[a].old, sources[b].old) {
                case let (x?, y?): return x < y
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a < b
                }
            }
            (files, sources) = (order.map { files[$0] }, order.map { sources[$0] })
        }
        let kindMatches = usable.map { $0.storage.kind == kind && ($0.storage.quantizer != nil) == build.scalarQuantized } ?? false
        let nothingChanged = usable != nil && usable!.formatVersion == IndexFile.version && jobs.isEmpty && changedArchives.isEmpty
            && report.removed == 0 && kindMatches
            && Set(rejects) == Set(previous?.rejects ?? FileTable())
        if nothingChanged, let usable {
            report.storage = usable.storage.kindDescription
            report.seconds = Date().timeIntervalSince(start)
            return report
        }
        let oldMatrix = usable.map { IndexBuilder.allRows(of: $0.storage) }
        var matrix = [Float](repeating: 0, count: files.count * d)
        matrix.withUnsafeMutableBufferPointer { m in
            for (i, s) in sources.enumerated() {
                let dst = m.baseAddress! + i * d
                if let row = s.old {
                    oldMatrix!.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + row * d, count: d) }
                } else if let j = s.job {
                    newRows.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + j * d, count: d) }
                }
            }
        }
        let storage = IndexBuilder.build(rows: Tensor(shape: [files.count, d], data: matrix), dimension: d,
                                         options: build, previous: usable?.storage)
        let contents = IndexContents(storage: storage, files: FileTable(files), rejects: FileTable(rejects), modelPath: modelPath,
                                     modelFingerprint: fingerprint,
                                     root: IndexLocation.rootReference(root: root, indexFile: indexFile))
        try FileManager.default.createDirectory(at: indexFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try IndexFile.write(contents, to: indexFile)
        report.wroteFile = true
        report.storage = storage.kindDescription
        report.seconds = Date().timeIntervalSince(start)
        return report
    }
}

/// The previous index's files by path, and its tar members by shard.
private struct PreviousFiles {
    /// Row of each indexed path; rejected files by path.
    var rows: [String: Int] = [:]
    var rejects: [String: IndexedFile] = [:]
    /// Per shard: its members' rows (in row order) and its rejected members.
    var archiveRows: [String: [Int]] = [:]
    var archiveRejects: [String: [IndexedFile]] = [:]
    /// Per shard: its size and time when indexed.
    var archiveStamps: [String: (size: UInt64, modified: Int64)] = [:]

    init(files: FileTable, rejects rejected: FileTable) {
        for (i, f) in files.enumerated() {
            rows[f.path] = i
            if let archive = f.archivePath, let m = f.member {
                archiveRows[archive, default: []].append(i)
                archiveStamps[archive] = (m.archiveSize, f.modified)
            }
        }
        for f in rejected {
            rejects[f.path] = f
            if let archive = f.archivePath, let m = f.member {
                archiveRejects[archive, default: []].append(f)
                archiveStamps[archive] = (m.archiveSize, f.modified)
            }
        }
    }

    /// The shard has the size and time it had when indexed.
    func archiveUnchanged(_ file: ScannedFile) -> Bool {
        guard let s = archiveStamps[file.path] else { return false }
        return s.size == file.size && s.modified == file.modified
    }
}

/// Carries the next decoded batch out of the background decode.
private final class BatchBox: @unchecked Sendable {
    var batch: DecodedBatch?
}
