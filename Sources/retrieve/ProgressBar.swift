// A progress bar on stderr with rate and ETA, redrawn in place on a terminal at most ten
// times a second; when stderr is not a terminal (CI, a pipe) it prints a plain line every
// tenth of the work instead, so logs stay readable.
import Foundation

final class ProgressBar: @unchecked Sendable {
    private let label: String
    private var total: Int
    private let unit: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private let lock = NSLock()
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var finished = false
    /// The count last drawn, so a finished bar that a plain log already shows whole is not repeated.
    private var drawn = -1

    init(_ label: String, total: Int, unit: String) {
        self.label = label
        self.total = max(1, total)
        self.unit = unit
    }

    /// Shows `done` of the total (changed to `total` when given) with an optional suffix.
    func update(_ done: Int, of total: Int? = nil, _ suffix: String = "") {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        if let total { self.total = max(1, total) }
        let now = Date()
        let decile = done * 10 / self.total
        if isTerminal {
            guard now.timeIntervalSince(lastDraw) > 0.1 || done >= self.total else { return }
        } else {
            guard decile > lastDecile else { return }
        }
        lastDraw = now
        lastDecile = decile
        draw(done, suffix, now)
    }

    /// Draws the final state and moves to a new line.
    func finish(_ suffix: String = "") {
        finish(suffix, count: nil)
    }

    /// Draws `done` of the total (a run that stopped early stays where it stopped) and moves
    /// to a new line.
    func finish(at done: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        if isTerminal || drawn != min(done, total) { draw(min(done, total), "", Date()) }
        finished = true
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Draws the final state (`count` items when given) and moves to a new line.
    func finish(_ suffix: String, count: Int?) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        if let count { total = max(1, count) }
        if isTerminal || drawn != total || !suffix.isEmpty { draw(total, suffix, Date()) }
        finished = true
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func draw(_ done: Int, _ suffix: String, _ now: Date) {
        drawn = done
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let fraction = Double(done) / Double(total)
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rateText = rate >= 100 ? String(format: "%.0f", rate) : String(format: "%.1f", rate)
        var line = "\(label) \(bar) \(done)/\(total) \(rateText) \(unit)/s ETA \(duration(remaining))"
        if !suffix.isEmpty { line += "  " + suffix }
        let text = isTerminal ? "\r\u{1B}[K" + line : line + "\n"
        if !Console.isQuiet { FileHandle.standardError.write(Data(text.utf8)) }
    }
}

/// 75 → "1:15", 3700 → "1:01:40".
func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
