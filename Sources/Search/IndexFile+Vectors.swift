// An index file of vectors that came from elsewhere (a .npy file, a benchmark's generated rows)
// rather than from pictures: the rows get synthetic names and are recorded as made by a given
// model, so queries run against them exactly as against a folder's index.
import Foundation
import Neural

extension IndexFile {
    /// Writes `vectors` (n, d) to `url` as an index of `options`' kind, row i named `name(i)`,
    /// recorded as made by the model at `modelPath` with `modelFingerprint`, for the folder `root`
    /// (relative to the index, as `IndexLocation.rootReference` gives it). Returns the storage written.
    @discardableResult
    public static func write(vectors: Tensor, to url: URL, name: (Int) -> String, modelPath: String = "",
                             modelFingerprint: String = "", root: String = ".",
                             options: IndexBuildOptions = IndexBuildOptions()) throws -> IndexStorage {
        precondition(vectors.rank == 2, "index vectors must be (n, d), got \(vectors.shape)")
        let storage = IndexBuilder.build(rows: vectors, dimension: vectors.shape[1], options: options)
        let files = (0..<vectors.shape[0]).map { IndexedFile(path: name($0), size: 0, modified: 0, contentHash: UInt64($0)) }
        try write(IndexContents(storage: storage, files: FileTable(files), modelPath: modelPath,
                                modelFingerprint: modelFingerprint, root: root), to: url)
        return storage
    }
}
