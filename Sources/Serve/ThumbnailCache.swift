// Encoded thumbnails kept in memory, least recently used dropped first once the bytes held pass
// the bound. Thread-safe behind one lock: lookups are a dictionary read and a counter bump, and
// making a thumbnail (decode, resize, encode) happens outside the lock.
import Foundation

final class ThumbnailCache: @unchecked Sendable {
    struct Key: Hashable { let id: Int; let size: Int }
    private struct Entry { var data: Data; var used: UInt64 }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private(set) var bytes = 0
    private let lock = NSLock()

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { lock.withLock { entries.count } }
    var heldBytes: Int { lock.withLock { bytes } }

    func get(_ key: Key) -> Data? {
        lock.withLock {
            guard var entry = entries[key] else { return nil }
            clock += 1
            entry.used = clock
            entries[key] = entry
            return entry.data
        }
    }

    /// Stores `data` (unless it alone exceeds the bound), then drops the least recently used
    /// entries until the bound holds. Eviction scans the entries: a few thousand at most.
    func put(_ key: Key, _ data: Data) {
        guard data.count <= capacity else { return }
        lock.withLock {
            clock += 1
            if let old = entries.updateValue(Entry(data: data, used: clock), forKey: key) { bytes -= old.data.count }
            bytes += data.count
            while bytes > capacity, let victim = entries.min(by: { $0.value.used < $1.value.used }) {
                bytes -= victim.value.data.count
                entries.removeValue(forKey: victim.key)
            }
        }
    }
}
