// Reads a tar member's bytes again with one `pread` at the offset the index recorded (the
// archive is never scanned). Checking that the bytes are
// still the indexed ones (the content hash) is the caller's.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension IndexedFile {
    /// The file (or archive) to open under `root`: the path itself, or the archive's path.
    public var storedPath: String { archivePath ?? path }

    /// `size` bytes at `member.offset` of `archive`, if the archive still has the recorded size.
    public static func readMember(archive: String, member: ArchiveMember, size: UInt64, maxBytes: Int = 256 << 20) -> Data? {
        guard size <= UInt64(maxBytes) else { return nil }
        let fd = open(archive, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, UInt64(info.st_size) == member.archiveSize,
              member.offset + size <= member.archiveSize else { return nil }
        var data = Data(count: Int(size))
        let ok = data.withUnsafeMutableBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let got = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(member.offset) + off_t(done))
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { return false }
                done += got
            }
            return true
        }
        return ok ? data : nil
    }
}
