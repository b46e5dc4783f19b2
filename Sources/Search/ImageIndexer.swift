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
        let start = Date()
        let root = folder.standardizedFileURL
        var report = IndexingReport(indexFile: indexFile)
        var scanned = try FolderScanner.scan(root)
        if let shard { scanned = scanned.filter { shard.holds($0.path) } }
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
        var oldRows: [String: Int] = [:]
        for (i, f) in (usable?.files ?? FileTable()).enumerated() { oldRows[f.path] = i }
        var oldRejects: [String: IndexedFile] = [:]
        for f in previous?.rejects ?? FileTable() { oldRejects[f.path] = f }

        // Plan: per scanned file, a kept row, a known reject, a decode job, or nothing (not an image).
        enum Plan { case keep(Int), job(Int), none }
        var plans: [Plan] = [], jobs: [DecodeJob] = [], rejects: [IndexedFile] = []
        let base = root.path + "/"
        for file in scanned {
            if let row = oldRows[file.path] {
                let old = usable!.files[row]
                if old.size == file.size && old.modified == file.modified {
                    plans.append(.keep(row)); report.unchanged += 1
                } else {
                    plans.append(.job(jobs.count)); jobs.append(DecodeJob(file: file, knownHash: old.contentHash))
                }
            } else if !keepDamaged, let r = oldRejects[file.path], r.size == file.size, r.modified == file.modified {
                rejects.append(r); report.knownUndecodable += 1; plans.append(.none)
            } else if ImageBatchDecoder.looksLikeImage(base + file.path) {
                plans.append(.job(jobs.count)); jobs.append(DecodeJob(file: file, knownHash: nil))
            } else {
                report.nonImages += 1; plans.append(.none)
            }
        }
        let present = Set(scanned.map(\.path))
        report.removed = oldRows.keys.filter { !present.contains($0) }.count

        // Decode and encode the jobs, batch by batch, decoding batch b+1 while batch b is encoded.
        let encodeStart = Date()
        var outcomes = [DecodeOutcome](repeating: .failed(reason: "", hash: 0), count: jobs.count)
        var newRows = [Float](repeating: 0, count: jobs.count * d)  // row of job j at j·d
        let batches = stride(from: 0, to: jobs.count, by: batchSize).map { Array(jobs[$0..<min(jobs.count, $0 + batchSize)]) }
        let preprocessing = model.configuration.preprocessing
        let keep = keepDamaged
        var next: DecodedBatch? = batches.first.map {
            ImageBatchDecoder.decode($0, root: root, preprocessing: preprocessing, threads: decodeThreads, keepDamaged: keep)
        }
        var done = 0
        for b in 0..<batches.count {
            let current = next!
            let group = DispatchGroup()
            let box = BatchBox()
            if b + 1 < batches.count {
                let jobsNext = batches[b + 1], threads = decodeThreads
                DispatchQueue.global().async(group: group) {
                    box.batch = ImageBatchDecoder.decode(jobsNext, root: root, preprocessing: preprocessing, threads: threads,
                                                         keepDamaged: keep)
                }
            }
            let embeddings = current.tensor.shape[0] > 0 ? model.embedImages(current.tensor) : Tensor(zeros: [0, d])
            for (i, outcome) in current.outcomes.enumerated() {
                let j = done + i
                outcomes[j] = outcome
                if case .image(let slot, _, _) = outcome {
                    for x in 0..<d { newRows[j * d + x] = embeddings.data[slot * d + x] }
                    report.encodedPaths.append(jobs[j].file.path)
                }
            }
            done += current.jobs.count
            group.wait()
            next = box.batch
            progress(done, jobs.count)
        }
        report.encodeSeconds = Date().timeIntervalSince(encodeStart)

        // Assemble rows and stamps in path order.
        var files: [IndexedFile] = []
        var sources: [(old: Int?, job: Int?)] = []
        for (file, plan) in zip(scanned, plans) {
            switch plan {
            case .none: continue
            case .keep(let row):
                files.append(usable!.files[row]); sources.append((row, nil))
            case .job(let j):
                let stamp = { (hash: UInt64) in IndexedFile(path: file.path, size: file.size, modified: file.modified, contentHash: hash) }
                switch outcomes[j] {
                case .image(_, let hash, let damage):
                    files.append(stamp(hash)); sources.append((nil, j))
                    if let damage { report.damaged.append(RejectedFile(path: file.path, reason: damage)) }
                    if jobs[j].knownHash == nil { report.added += 1 } else { report.changed += 1 }
                case .unchanged(let hash):
                    files.append(stamp(hash)); sources.append((oldRows[file.path]!, nil)); report.touched += 1
                case .failed(let reason, let hash):
                    rejects.append(stamp(hash))
                    report.undecodable.append(RejectedFile(path: file.path, reason: reason))
                    if jobs[j].knownHash != nil { report.removed += 1 }
                }
            }
        }
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
        let nothingChanged = usable != nil && usable!.formatVersion == IndexFile.version && jobs.isEmpty && report.removed == 0 && kindMatches
            && rejects.elementsEqual(previous?.rejects ?? FileTable())
        if nothingChanged, let usable {
            report.storage = usable.storage.kindDescription
            report.seconds = Date().timeIntervalSince(start)
            return report
        }
        let old = usable.map { IndexBuilder.allRows(of: $0.storage) }
        var matrix = [Float](repeating: 0, count: files.count * d)
        matrix.withUnsafeMutableBufferPointer { m in
            for (i, s) in sources.enumerated() {
                let dst = m.baseAddress! + i * d
                if let row = s.old {
                    old!.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + row * d, count: d) }
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

/// Carries the next decoded batch out of the background decode.
private final class BatchBox: @unchecked Sendable {
    var batch: DecodedBatch?
}
