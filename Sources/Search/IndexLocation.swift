// Where an index lives: `retrieve index DIR` writes DIR/.retrieve/index.rtrv, and `retrieve query`
// finds the nearest .retrieve/index.rtrv from the current folder upwards, as git finds .git.
// The indexed folder is recorded relative to the index, so moving the folder keeps it working.
import Foundation

public enum IndexLocation {
    public static let folderName = ".retrieve"
    public static let fileName = "index.rtrv"

    /// DIR/.retrieve/index.rtrv.
    public static func defaultFile(forFolder folder: URL) -> URL {
        folder.standardizedFileURL.appendingPathComponent(folderName).appendingPathComponent(fileName)
    }

    /// The nearest DIR/.retrieve/index.rtrv from `start` up to the file-system root, or nil.
    public static func find(from start: URL) -> URL? {
        var folder = start.standardizedFileURL
        while true {
            let candidate = folder.appendingPathComponent(folderName).appendingPathComponent(fileName)
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
