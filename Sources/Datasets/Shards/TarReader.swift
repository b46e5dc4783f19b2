// Reads a tar file member by member from a file descriptor, holding one member at a time, so a
// shard of any size streams through bounded memory. Understands ustar (name prefix), GNU long
// names ('L') and pax extended headers ('x': path, size); verifies every header's checksum.
// Grouping members into samples is ShardReader's job.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One regular file of a tar archive.
public struct TarMember: Sendable {
    public var name: String
    public var bytes: [UInt8]
    /// Where the member's bytes start in the archive (after its headers), so it can be read
    /// again with one `pread` of `bytes.count` bytes.
    public var offset: Int = 0

    public init(name: String, bytes: [UInt8], offset: Int = 0) {
        self.name = name
        self.bytes = bytes
        self.offset = offset
    }
}

/// Why a tar archive could not be read on: the rest of it is lost, the members before it stand.
public struct TarError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}

/// Streams the regular files of one tar archive.
public final class TarReader {
    public let url: URL
    /// Members larger than this are skipped unread (a sample's picture or caption never is).
    public static let largestMember = 256 << 20

    private let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0, end = 0
    private var finished = false
    /// Offset in the file of `buffer[start]`, for messages.
    private var offset = 0
    /// Members skipped because they were too large, with their names.
    public private(set) var skipped: [String] = []

    public init(url: URL) throws {
        self.url = url
        descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TarError(file: url.path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// The next regular file, or nil at the end of the archive. Throws `TarError` on a damaged
    /// header or a truncated archive, naming the member it was in.
    public func next() throws -> TarMember? {
        var longName: String?
        while !finished {
            guard let header = try block(member: longName ?? "the header after the last member") else {
                finished = true
                return nil  // a tar that simply stops after a member: accepted, as GNU tar does
            }
            if header.allSatisfy({ $0 == 0 }) { finished = true; return nil }
            let name = longName ?? Self.name(of: header)
            try Self.checkSum(header, file: url.path, at: offset - 512, member: name)
            let size = try Self.size(of: header, file: url.path, member: name)
            let type = header[156]
            longName = nil
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "x"):
                guard size <= 1 << 20 else { throw TarError(file: url.path, problem: "\(name): extended header of \(size) bytes") }
                let data = try payload(size, member: name)
                if type == UInt8(ascii: "L") {
                    longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                } else if let path = Self.paxPath(data) {
                    longName = path
                }
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                guard size <= Self.largestMember else {
                    try skip(size, member: name)
                    skipped.append(name)
                    continue
                }
                let start = offset
                return TarMember(name: name, bytes: try payload(size, member: name), offset: start)
            default:  // directories, links, devices, global pax headers: nothing to read
                try skip(size, member: name)
            }
        }
        return nil
    }

    // MARK: Fields

    private static func name(of header: [UInt8]) -> String {
        func text(_ range: Range<Int>) -> String {
            String(decoding: header[range].prefix { $0 != 0 }, as: UTF8.self)
        }
        let name = text(0..<100)
        let isUstar = header[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? text(345..<500) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    private static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0, digits = 0
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") { if digits > 0 { break } else { continue } }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return value
    }

    private static func size(of header: [UInt8], file: String, member: String) throws -> Int {
        let field = header[124..<136]
        if field.first! & 0x80 != 0 {  // GNU base-256 for sizes of 8 GiB and more
            var value = 0
            for byte in field.dropFirst() { value = (value << 8) | Int(byte) }
            return value
        }
        guard let size = octal(field) else { throw TarError(file: file, problem: "\(member): size field is not a number") }
        return size
    }

    private static func checkSum(_ header: [UInt8], file: String, at offset: Int, member: String) throws {
        var unsigned = 0, signed = 0
        for (i, byte) in header.enumerated() {
            let value = (148..<156).contains(i) ? 32 : Int(byte)
            unsigned += value
            signed += (148..<156).contains(i) ? 32 : Int(Int8(bitPattern: byte))
        }
        guard let stored = octal(header[148..<156]), stored == unsigned || stored == signed else {
            throw TarError(file: file, problem: "damaged tar header at byte \(offset) (\(member)): checksum does not match; the rest of the shard is skipped")
        }
    }

    /// The `path` record of a pax extended header ("LEN path=VALUE\n" records).
    private static func paxPath(_ data: [UInt8]) -> String? {
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: data[i..<space], as: UTF8.self)), length > 0,
                  i + length <= data.count else { return nil }
            let record = String(decoding: data[(space + 1)..<(i + length - 1)], as: UTF8.self)
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
            i += length
        }
        return nil
    }

    // MARK: Reading

    /// The next 512 bytes; nil at a clean end of file, a throw in the middle of a block.
    private func block(member: String) throws -> [UInt8]? {
        try fill(512)
        if end - start == 0 { return nil }
        guard end - start >= 512 else { throw truncated(member) }
        defer { start += 512; offset += 512 }
        return Array(buffer[start..<(start + 512)])
    }

    /// `size` bytes of a member and its padding to the next block.
    private func payload(_ size: Int, member: String) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(size)
        var left = size
        while left > 0 {
            try fill(min(left, buffer.count))
            guard end > start else { throw truncated(member) }
            let take = min(left, end - start)
            out.append(contentsOf: buffer[start..<(start + take)])
            start += take; offset += take; left -= take
        }
        try discard((512 - size % 512) % 512, member: member)
        return out
    }

    /// Skips `size` bytes of a member and its padding.
    private func skip(_ size: Int, member: String) throws {
        try discard(size + (512 - size % 512) % 512, member: member)
    }

    /// Skips exactly `count` bytes.
    private func discard(_ count: Int, member: String) throws {
        var left = count
        while left > 0 {
            try fill(min(left, buffer.count))
            guard end > start else { throw truncated(member) }
            let take = min(left, end - start)
            start += take; offset += take; left -= take
        }
    }

    /// Makes at least `count` bytes available in the buffer, unless the file ends first.
    private func fill(_ count: Int) throws {
        guard end - start < count else { return }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        while end < count {
            let got = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress! + end, raw.count - end) }
            if got < 0 {
                if errno == EINTR { continue }
                throw TarError(file: url.path, problem: "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { return }
            end += got
        }
    }

    private func truncated(_ member: String) -> TarError {
        TarError(file: url.path, problem: "truncated inside \(member) (at byte \(offset)); the members before it are used")
    }
}
