// Where an index lives: `retrieve index DIR` writes DIR/.retrieve/index.rtrv (or, sharded, the
// manifest DIR/.retrieve/index.json beside its shards), and `retrieve query` finds the nearest
// of them from the current folder upwards, as git finds .git (the manifest first).
// The indexed folder is recorded relative to the index, so moving the folder keeps it working.
import Foundation

public enum IndexLocation {
    public static let folderName = ".retrieve"
    public static let fileName = "index.rtrv"

    /// DIR/.retrieve/index.rtrv.
    public static func defaultFile(forFolder folder: URL) -> URL {
        folder.standardizedFileURL.appendingPathComponent(folderName).appendingPathComponent(fileName)
    }

    /// DIR's index as a search opens it: the manifest DIR/.retrieve/index.json when there is
    /// one, else DIR/.retrieve/index.rtrv.
    public static func existingIndex(forFolder folder: URL) -> URL {
        let manifest = folder.standardizedFileURL.appendingPathComponent(folderName).appendingPathComponent(manifestName)
        return FileManager.default.fileExists(atPath: manifest.path) ? manifest : defaultFile(forFolder: folder)
    }

    /// The manifest of a sharded index, beside its shards.
    public static let manifestName = "index.json"

    /// The nearest DIR/.retrieve/index.json or, failing that, DIR/.retrieve/index.rtrv from
    /// `start` up to the file-system root, or nil.
    public static func find(from start: URL) -> URL? {
        var folder = start.standardizedFileURL
        while true {
            let candidate = existingIndex(forFolder: folder)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = folder.deletingLastPathComponent().standardizedFileURL
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// How the index records `root`: ".." when the index sits in root/.retrieve, "." beside it,
    /// otherwise the absolute path.
    public static func rootReference(root: URL, indexFile: URL) -> String {
        let rootPath = root.standardizedFileURL.path
        let indexFolder = indexFile.standardizedFileURL.deletingLastPathComponent().path
        if indexFolder == rootPath { return "." }
        if indexFolder == (rootPath == "/" ? "" : rootPath) + "/" + folderName { return ".." }
        return rootPath
    }

    /// The folder a recorded root reference names.
    public static func resolveRoot(_ reference: String, indexFile: URL) -> URL {
        if reference.hasPrefix("/") { return URL(fileURLWithPath: reference) }
        return indexFile.standardizedFileURL.deletingLastPathComponent()
            .appendingPathComponent(reference).standardizedFileURL
    }
}
