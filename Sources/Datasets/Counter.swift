// A running total several threads add to, for progress reports of parallel decoding and
// generation.
import Foundation

/// A thread-safe running total for progress reports.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    /// Adds `amount`; returns the new total.
    func add(_ amount: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += amount
        return value
    }
}
