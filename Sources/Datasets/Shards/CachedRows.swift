// Which samples of one set of open pixel caches a store holds, in the store's order: the one
// list through which both its pictures (StoredPictures) and its captions (CaptionedItems) are
// read from disk, 8 bytes a sample.
import Foundation

struct CachedRows: Sendable {
    let set: PixelCacheSet
    /// Sample i is row `rows[i]` of cache `set.files[file[i]]`.
    let file: [Int32]
    let rows: [Int32]

    var count: Int { file.count }

    /// The cache that holds sample `i`, and its row there.
    func place(_ i: Int) -> (cache: PixelCacheFile, row: Int) { (set.files[Int(file[i])], Int(rows[i])) }

    /// The samples at `indices`, in that order.
    func subset(_ indices: [Int]) -> CachedRows {
        CachedRows(set: set, file: indices.map { file[$0] }, rows: indices.map { rows[$0] })
    }

    /// These samples followed by `other`'s; nil when `other` reads another set of caches.
    func appending(_ other: CachedRows) -> CachedRows? {
        set === other.set ? CachedRows(set: set, file: file + other.file, rows: rows + other.rows) : nil
    }
}
