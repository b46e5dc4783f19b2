// Contiguous storage for index data (Float rows, UInt8 codes, Int64 ids) that is either an
// owned array or a borrowed buffer kept alive by an owner object (a memory-mapped file), so
// opening an index does not copy its rows. Mutation of borrowed storage copies it first.
import Foundation

/// Elements either owned or borrowed from `owner`'s memory; reads never copy.
public struct RowStorage<Element: BitwiseCopyable>: @unchecked Sendable {
    private var owned: [Element]
    private var borrowed: UnsafeBufferPointer<Element>?
    /// Keeps the borrowed memory (e.g. a mapping) alive as long as this storage exists.
    public private(set) var owner: AnyObject?

    public init() {
        owned = []
    }

    public init(_ elements: [Element]) {
        owned = elements
    }

    /// Borrows `buffer` without copying; `owner` must keep it valid (unmap in its deinit).
    public init(borrowing buffer: UnsafeBufferPointer<Element>, owner: AnyObject) {
        owned = []
        borrowed = buffer
        self.owner = owner
    }

    public var count: Int { borrowed?.count ?? owned.count }

    /// True when the elements live in memory this storage does not own (a mapped file).
    public var isBorrowed: Bool { borrowed != nil }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withBuffer(body)
    }

    @usableFromInline
    func withBuffer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        if let b = borrowed { return try body(b) }
        return try owned.withUnsafeBufferPointer(body)
    }

    /// The elements as an owned array (copies borrowed memory).
    public var array: [Element] {
        if let b = borrowed { return Array(b) }
        return owned
    }

    private mutating func makeOwned() {
        if let b = borrowed {
            owned = Array(b)
            borrowed = nil
            owner = nil
        }
    }

    public mutating func append(contentsOf buffer: UnsafeBufferPointer<Element>) {
        makeOwned()
        owned.append(contentsOf: buffer)
    }

    public mutating func append(contentsOf elements: [Element]) {
        makeOwned()
        owned.append(contentsOf: elements)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Element>) throws -> R
    ) rethrows -> R {
        makeOwned()
        return try owned.withUnsafeMutableBufferPointer(body)
    }

    public mutating func removeAll() {
        owned = []
        borrowed = nil
        owner = nil
    }
}

/// Its bytes as they lie, so a file writer can emit a section straight from the storage.
extension RowStorage: ContiguousBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withBuffer { try body(UnsafeRawBufferPointer($0)) }
    }
}
