// Builds one shard's pixel cache (layout in PixelCacheFile.swift): streams the shard's samples,
// decodes and resizes their pictures in parallel a chunk at a time, appends the pixels to a
// temporary file, then writes the sample table and the header and renames the file into place,
// so a cache is either whole or absent. Memory holds one chunk of samples, never the shard.
import Foundation
import Neural
import Vision
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum PixelCacheWriter {
    /// Samples decoded together (and held in memory at once).
    static let chunk = 256

    /// Decodes the shard at `shard` into a cache at `url`; `progress(samples)` after each chunk.
    static func build(shard: URL, into url: URL, preprocessing: Preprocessing, threads: Int = Threads.count,
                      progress: ((Int) -> Void)? = nil) throws {
        let key = try CacheKey(shard: shard, preprocessing: preprocessing)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(path: url.path, reason: "cannot create the pixel cache: \(String(cString: strerror(errno))) (pass --cache DIR to keep caches elsewhere)")
        }
        var closed = false
        defer {
            if !closed { close(fd) }
            unlink(temporary.path)  // after the rename there is nothing left to remove
        }
        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw FileWriteError(path: url.path, reason: "write failed: \(String(cString: strerror(errno)))") }
                done += n
            }
        }

        var table = TableWriter()
        var pixelSum = Checksum64()
        var offset = PixelCacheFile.pixelOffset
        var count = 0
        var pending: [ShardSample] = []
        var skipped: [ShardWarning] = []
        let shardName = shard.lastPathComponent

        func decodePending() throws {
            guard !pending.isEmpty else { return }
            var results = [Result<RGBImage, any Error>?](repeating: nil, count: pending.count)
            results.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                let samples = pending
                DispatchQueue.concurrentPerform(iterations: max(1, min(threads, samples.count))) { part in
                    for i in stride(from: part, to: samples.count, by: max(1, min(threads, samples.count))) {
                        base[i] = Result {
                            preprocessing.square(try RGBImage(decoding: samples[i].picture, minimumShortSide: preprocessing.side,
                                                              source: samples[i].pictureName))
                        }
                    }
                }
            }
            for (sample, result) in zip(pending, results) {
                switch result! {
                case .success(let image):
                    try image.pixels.withUnsafeBytes { try write($0, at: offset) }
                    image.pixels.withUnsafeBytes { pixelSum.update($0) }
                    offset += image.pixels.count
                    count += 1
                    table.u64(DataCheck.fingerprint(image))
                    table.string(sample.key)
                    table.u32(UInt32(sample.captions.count))
                    for caption in sample.captions { table.string(caption) }
                case .failure(let error):
                    skipped.append(ShardWarning(shard: shardName, member: sample.pictureName,
                                                problem: ((error as? ImageError)?.problem ?? "\(error)") + "; sample skipped"))
                }
            }
            progress?(pending.count)
            pending.removeAll(keepingCapacity: true)
        }

        let warnings = try ShardReader.forEachSample(in: shard) { sample in
            pending.append(sample)
            if pending.count == chunk { try decodePending() }
        }
        try decodePending()

        let all = skipped + warnings
        table.u32(UInt32(all.count))
        for warning in all {
            table.optionalString(warning.member)
            table.string(warning.problem)
        }
        var tableSum = Checksum64()
        tableSum.update(table.bytes)
        try table.bytes.withUnsafeBytes { try write($0, at: offset) }

        var header = TableWriter()
        header.bytes += PixelCacheFile.magic
        header.u32(PixelCacheFile.version)
        header.u32(UInt32(preprocessing.side))
        let filter = Array(preprocessing.filter.rawValue.utf8.prefix(16))
        header.bytes += filter + [UInt8](repeating: 0, count: 16 - filter.count)
        for field in [UInt64(count), key.shardSize, UInt64(bitPattern: key.shardTime), key.shardPath,
                      UInt64(offset), UInt64(table.bytes.count), pixelSum.finalize(), tableSum.finalize()] {
            header.u64(field)
        }
        var headerSum = Checksum64()
        headerSum.update(header.bytes)
        header.u64(headerSum.finalize())
        try header.bytes.withUnsafeBytes { try write($0, at: 0) }

        guard fsync(fd) == 0 else { throw FileWriteError(path: url.path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
        close(fd)
        closed = true
        guard rename(temporary.path, url.path) == 0 else {
            throw FileWriteError(path: url.path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Appends little-endian fields, as TableReader reads them.
struct TableWriter {
    var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func u64(_ v: UInt64) { for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        bytes += utf8
    }
    mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { u32(.max) }
    }
}
