// One shard's decoded pictures and sample table on disk, read back a picture or a sample's
// key and captions at a time with `pread`, so a run over any number of shards keeps resident
// only the samples of the batch in hand and 12 bytes a sample (its 8-byte fingerprint and the
// 4-byte start of its record). The layout
// (little-endian), written by PixelCacheWriter:
//
//   0     magic "RTPIXEL1", version u32 = 1, side u32, filter (16 bytes, NUL-padded)
//   32    count u64, shard size u64, shard mtime (ns) i64, shard path checksum u64,
//         table offset u64, table length u64, pixel checksum u64, table checksum u64
//   96    header checksum u64 (Checksum64 of bytes 0..<96)
//   4096  pixels: count × side × side × 3 bytes, RGB interleaved, row-major
//   table: per sample fingerprint u64, key, caption count u32, captions; then warning count
//         u32 and per warning member (absent: length 0xFFFF_FFFF) and problem; strings are a
//         u32 byte count and UTF-8.
import Foundation
import Neural
import Vision
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a cache cannot be used as it is; it is then decoded again.
public struct StaleCache: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// What a cache was built from: the shard's identity and the preprocessing's parameters.
struct CacheKey: Equatable {
    var side: Int
    var filter: ResizeFilter
    var shardSize: UInt64
    var shardTime: Int64
    var shardPath: UInt64

    init(shard: URL, preprocessing: Preprocessing) throws {
        var info = stat()
        guard stat(shard.path, &info) == 0 else {
            throw TarError(file: shard.path, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        side = preprocessing.side
        filter = preprocessing.filter
        shardSize = UInt64(info.st_size)
        shardTime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        var path = Checksum64()
        path.update(shard.standardizedFileURL.path)
        shardPath = path.finalize()
    }
}

/// An open, checked pixel cache of one shard.
public final class PixelCacheFile: @unchecked Sendable {
    static let magic = Array("RTPIXEL1".utf8)
    static let version: UInt32 = 1
    static let pixelOffset = 4096
    static let headerBytes = 96

    public let url: URL
    /// The shard the cache was built from.
    public let shard: URL
    public let side: Int
    public let count: Int
    /// Per sample, the fingerprint of its pixels (`DataCheck.fingerprint`).
    public let fingerprints: [UInt64]
    /// What the build left out of the shard.
    public let warnings: [ShardWarning]
    private let descriptor: Int32
    private let pixelChecksum: UInt64
    /// Where the sample table starts in the file, and where each sample's record starts in the
    /// table (one more: the end of the last record).
    private let tableOffset: Int
    private let recordStarts: [UInt32]

    /// Opens the cache at `url` if it was built from `shard` as it is now, with `preprocessing`;
    /// throws `StaleCache` otherwise. `verifyPixels` reads every picture once to check them.
    init(url: URL, shard: URL, preprocessing: Preprocessing, verifyPixels: Bool) throws {
        self.url = url
        self.shard = shard
        let key = try CacheKey(shard: shard, preprocessing: preprocessing)
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw StaleCache(path: url.path, reason: "not built yet") }
        var table = TableReader(bytes: [])
        do {
            var header = try Self.read(fd, count: Self.headerBytes + 8, at: 0, path: url.path)
            guard Array(header[0..<8]) == Self.magic else { throw StaleCache(path: url.path, reason: "not a pixel cache") }
            var check = Checksum64()
            check.update(header[0..<Self.headerBytes])
            var fields = TableReader(bytes: header)
            fields.position = 8
            guard fields.u32() == Self.version else { throw StaleCache(path: url.path, reason: "another version") }
            let side = Int(fields.u32())
            let filter = String(decoding: fields.raw(16).prefix { $0 != 0 }, as: UTF8.self)
            let count = Int(fields.u64())
            let built = (size: fields.u64(), time: Int64(bitPattern: fields.u64()), path: fields.u64())
            let (tableOffset, tableLength) = (Int(fields.u64()), Int(fields.u64()))
            pixelChecksum = fields.u64()
            let tableChecksum = fields.u64()
            guard fields.u64() == check.finalize() else { throw StaleCache(path: url.path, reason: "damaged header") }
            guard side == key.side, filter == key.filter.rawValue else {
                throw StaleCache(path: url.path, reason: "built for \(side) px \(filter), the model takes \(key.side) px \(key.filter.rawValue)")
            }
            guard built == (key.shardSize, key.shardTime, key.shardPath) else {
                throw StaleCache(path: url.path, reason: "the shard changed since the cache was built")
            }
            var info = stat()
            let pictureBytes = side * side * 3
            guard fstat(fd, &info) == 0, tableOffset == Self.pixelOffset + count * pictureBytes,
                  Int(info.st_size) == tableOffset + tableLength else {
                throw StaleCache(path: url.path, reason: "truncated or padded")
            }
            guard tableLength < Int(UInt32.max) else { throw StaleCache(path: url.path, reason: "sample table over 4 GiB") }
            table = TableReader(bytes: try Self.read(fd, count: tableLength, at: tableOffset, path: url.path))
            self.tableOffset = tableOffset
            var sum = Checksum64()
            sum.update(table.bytes)
            guard sum.finalize() == tableChecksum else { throw StaleCache(path: url.path, reason: "damaged sample table") }
            header.removeAll()
            (self.side, self.count) = (side, count)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
        var starts: [UInt32] = [], fingerprints: [UInt64] = []
        starts.reserveCapacity(count + 1)
        fingerprints.reserveCapacity(count)
        for _ in 0..<count {
            starts.append(UInt32(table.position))
            fingerprints.append(table.u64())
            table.skipString()
            for _ in 0..<Int(table.u32()) { table.skipString() }
        }
        starts.append(UInt32(table.position))
        let name = shard.lastPathComponent
        warnings = (0..<Int(table.u32())).map { _ in
            let member = table.optionalString()
            return ShardWarning(shard: name, member: member, problem: table.string())
        }
        (recordStarts, self.fingerprints) = (starts, fingerprints)
        if verifyPixels { try checkPixels() }
    }

    /// The key and captions of sample `row`, read from the table on disk.
    public func sample(at row: Int) -> (key: String, captions: [String]) {
        precondition(row >= 0 && row < count, "sample \(row) of a cache of \(count)")
        let start = Int(recordStarts[row]), end = Int(recordStarts[row + 1])
        let bytes: [UInt8]
        do {
            bytes = try Self.read(descriptor, count: end - start, at: tableOffset + start, path: url.path)
        } catch {
            // The table was checked when opened; a read failing now is the disk's or someone's deleting it.
            preconditionFailure("\(url.path): cannot read sample \(row): \(error) (delete the cache to rebuild it)")
        }
        var record = TableReader(bytes: bytes)
        _ = record.u64()
        let key = record.string()
        return (key, (0..<Int(record.u32())).map { _ in record.string() })
    }

    deinit { close(descriptor) }

    /// The picture of sample `row`, read from disk.
    public func image(at row: Int) -> RGBImage {
        precondition(row >= 0 && row < count, "picture \(row) of a cache of \(count)")
        let bytes = side * side * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: bytes) { buffer, initialized in
            var done = 0
            while done < bytes {
                let got = pread(descriptor, buffer.baseAddress! + done, bytes - done, off_t(Self.pixelOffset + row * bytes + done))
                if got < 0 && errno == EINTR { continue }
                // The file was checked when opened; a read failing now is the disk's or someone's deleting it.
                precondition(got > 0, "\(url.path): cannot read picture \(row): \(got < 0 ? String(cString: strerror(errno)) : "file shrank") (delete the cache to rebuild it)")
                done += got
            }
            initialized = bytes
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// Reads every picture once and compares their checksum with the header's.
    private func checkPixels() throws {
        var sum = Checksum64()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var left = count * side * side * 3, offset = Self.pixelOffset
        while left > 0 {
            let take = min(left, chunk.count)
            let got = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, take, off_t(offset)) }
            guard got > 0 else { throw StaleCache(path: url.path, reason: "unreadable pixels") }
            chunk.withUnsafeBytes { sum.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            left -= got; offset += got
        }
        guard sum.finalize() == pixelChecksum else { throw StaleCache(path: url.path, reason: "damaged pixels") }
    }

    private static func read(_ fd: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw StaleCache(path: path, reason: "truncated") }
            done += got
        }
        return out
    }
}

/// Reads the little-endian fields of a header or table; running past the end reads zeros
/// (the table's checksum was verified, so that never happens on a file this code wrote).
struct TableReader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func raw(_ n: Int) -> ArraySlice<UInt8> {
        let end = min(bytes.count, position + n)
        defer { position = end }
        return bytes[min(position, end)..<end]
    }

    mutating func u32() -> UInt32 { raw(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func u64() -> UInt64 { raw(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func string() -> String { String(decoding: raw(Int(u32())), as: UTF8.self) }
    mutating func skipString() { _ = raw(Int(u32())) }
    mutating func optionalString() -> String? {
        let n = u32()
        return n == .max ? nil : String(decoding: raw(Int(n)), as: UTF8.self)
    }
}
