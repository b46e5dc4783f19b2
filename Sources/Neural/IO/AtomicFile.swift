// Writing a file so that a crash or a kill at any moment leaves either the old file or the
// new one, never half of it: bytes go to a hidden temporary file in the same folder, are
// flushed to disk, and the file is renamed over the target. Every writer in retrieve uses it.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be written; one line naming the file.
public struct FileWriteError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { sink in try data.withUnsafeBytes { try sink($0) } }
    }

    /// Runs `body` with a sink that appends bytes to a fresh temporary file beside `url`,
    /// then fsyncs and renames it over `url`; on any failure the temporary file is removed.
    public static func write(to url: URL, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = url.path
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func systemError(_ what: String) -> FileWriteError {
            FileWriteError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw systemError("cannot create a temporary file in \(folder)") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try body { bytes in
                var done = 0
                while done < bytes.count {
                    let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw systemError("write failed") }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw systemError("fsync failed") }
            closed = true
            guard close(fd) == 0 else { throw systemError("close failed") }
            guard rename(temporary, path) == 0 else { throw systemError("cannot rename the temporary file into place") }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

/// POSIX write(2), spelled the same on Linux and macOS.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, bytes, count)
    #else
    return Darwin.write(fd, bytes, count)
    #endif
}
