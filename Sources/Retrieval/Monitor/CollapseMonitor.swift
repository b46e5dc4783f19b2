// Watches training step by step and names each known way a contrastive or ranking model
// converges to a useless solution. A mode is declared only when its condition persists over a
// window of steps; non-finite values are declared at once. Precedence keeps one cause one
// alarm: non-finite > score scale > similarity > embedding > dimensional, except that one
// tower collapsed alone is embedding collapse even when it flattens the scores.
import Foundation

/// The failure modes the monitor knows.
public enum CollapseMode: String, CaseIterable, Codable, Sendable {
    case similarity, embedding, dimensional, scoreScale = "score_scale", temperature
    case nonFinite = "non_finite", gradientImbalance = "gradient_imbalance"
}

/// How one mode stands.
public enum Health: String, Codable, Sendable, Comparable {
    case healthy, warning, collapsed

    public static func < (a: Health, b: Health) -> Bool {
        let order: [Health] = [.healthy, .warning, .collapsed]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

/// The loss being trained, which decides what a pinned loss looks like.
public enum MonitoredLoss: Sendable {
    /// Symmetric N-pair: an all-equal similarity matrix gives exactly ln(B).
    case nPair
    /// Max-of-hinges with this margin: all-equal scores give 2·margin (row and column hinge).
    case hinge(margin: Double)
}

/// Thresholds, defaulted from healthy runs on the shapes data and on real data, batch 32–1024,
/// dimension 32–512 (see the README's monitor section for the figures behind them).
public struct CollapseThresholds: Codable, Sendable {
    /// Consecutive steps a condition must hold before it is declared.
    public var window = 20
    /// Steps at the start of training that are never judged (a fresh model sits near chance).
    public var graceSteps = 50
    /// |loss − pinned value| below this fraction of the pinned value counts as pinned.
    public var pinnedLoss = 0.02
    /// Positive–negative gap and score spread below these, with a pinned loss: all-equal scores.
    public var similarityGap = 0.02
    public var similarityScoreSpread = 0.02
    /// Relative spread of a tower's batch: below these, it maps inputs to one point.
    public var spreadWarning = 0.1
    public var spreadCollapsed = 0.03
    /// Effective number of directions (participation ratio) below these. Healthy shapes runs
    /// dip to 2.8 early on (B 32, D 64), hence not 3 (docs/monitor.md).
    public var rankWarning = 2.0
    public var rankCollapsed = 1.5
    /// Under a margin loss: the score spread below this fraction of the margin, the mean positive
    /// score below the margin and the loss pinned at 2·margin (`pinnedLoss`): collapsed.
    public var scoreScaleFraction = 0.05
    /// Under a margin loss: the loss within this fraction of 2·margin, the score spread below
    /// `scoreScaleWarningFraction` × margin and the mean positive score below the margin: the
    /// shrinking is under way.
    public var scoreScaleWarningBand = 0.25
    public var scoreScaleWarningFraction = 0.25
    /// Distance from a clamp of the log-scale that counts as pinned, and the least relative
    /// improvement of the loss over a window that counts as progress.
    public var clampDistance = 0.01
    public var minimumImprovement = 0.01
    /// Largest/smallest group gradient norm.
    public var gradientRatioWarning = 30.0
    public var gradientRatioCollapsed = 100.0

    public init() {}
}

/// One declared collapse: which mode, since which step, the figures then, and what to do.
public struct CollapseAlarm: Codable, Sendable, Equatable {
    public let mode: CollapseMode
    public let health: Health
    public let sinceStep: Int
    public let declaredAt: Int
    public let summary: String
    public let advice: String
}

/// Turns each step's figures into a state per mode and alarms when a mode gets worse.
public final class CollapseMonitor {
    public let loss: MonitoredLoss
    public let logScaleRange: ClosedRange<Double>
    public let thresholds: CollapseThresholds
    /// The current state of every mode.
    public private(set) var states: [CollapseMode: Health]
    /// Every alarm raised so far, in order.
    public private(set) var alarms: [CollapseAlarm] = []

    /// How long a mode's condition has held: any level, and the collapsed level alone.
    private struct Streak {
        var since = 0
        var unhealthy = 0
        var collapsed = 0
    }
    private var streaks: [CollapseMode: Streak] = [:]
    private var recentLosses: [Double] = []
    private var observed = 0

    public init(loss: MonitoredLoss = .nPair, logScaleRange: ClosedRange<Double> = 0...log(100),
                thresholds: CollapseThresholds = CollapseThresholds()) {
        self.loss = loss
        self.logScaleRange = logScaleRange
        self.thresholds = thresholds
        self.states = Dictionary(uniqueKeysWithValues: CollapseMode.allCases.map { ($0, Health.healthy) })
    }

    /// Forgets the current streaks and states (after a rollback); the alarm history stays, and
    /// the grace period is not granted again (the restored model is not a fresh one).
    public func reset() {
        streaks = [:]
        recentLosses = []
        for mode in CollapseMode.allCases { states[mode] = .healthy }
    }

    /// The worst state over all modes.
    public var overall: Health { states.values.max() ?? .healthy }

    /// True when every mode is healthy and no condition is building up either: a state worth
    /// keeping for a rollback (a healthy-looking step inside a window may already be sick).
    public var isSettled: Bool { overall == .healthy && streaks.values.allSatisfy { $0.unhealthy == 0 } }

    /// Judges one step; returns the alarms this step raised (usually none).
    @discardableResult
    public func observe(_ figures: CollapseFigures) -> [CollapseAlarm] {
        observed += 1
        recentLosses.append(figures.loss)
        if recentLosses.count > 2 * thresholds.window { recentLosses.removeFirst() }
        let conditions = judge(figures)
        var raised: [CollapseAlarm] = []
        for mode in CollapseMode.allCases {
            let level = conditions[mode] ?? .healthy
            var streak = streaks[mode] ?? Streak()
            if level == .healthy {
                streak = Streak()
            } else {
                if streak.unhealthy == 0 { streak.since = figures.step }
                streak.unhealthy += 1
                streak.collapsed = level == .collapsed ? streak.collapsed + 1 : 0
            }
            streaks[mode] = streak
            let needed = mode == .nonFinite ? 1 : thresholds.window
            let state: Health = streak.collapsed >= needed ? .collapsed : streak.unhealthy >= needed ? .warning : .healthy
            if state > states[mode]! {
                let alarm = CollapseAdvice.alarm(for: mode, health: state, since: streak.since,
                                                 figures: figures, loss: loss)
                alarms.append(alarm)
                raised.append(alarm)
            }
            states[mode] = state
        }
        return raised
    }

    /// Each mode's condition on this step alone, before the window.
    private func judge(_ f: CollapseFigures) -> [CollapseMode: Health] {
        var result: [CollapseMode: Health] = [:]
        if !f.allFinite {
            result[.nonFinite] = .collapsed
            return result
        }
        guard observed > thresholds.graceSteps else { return result }
        let t = thresholds

        // A loss pinned where all-equal scores put it.
        let pinnedValue: Double
        switch loss {
        case .nPair: pinnedValue = f.chanceLoss
        case .hinge(let margin): pinnedValue = 2 * margin
        }
        let pinned = abs(f.loss - pinnedValue) <= t.pinnedLoss * max(pinnedValue, 1e-6)
        let flatScores = abs(f.gap) < t.similarityGap && f.scoreSpread < t.similarityScoreSpread
        // One tower mapping everything to one point flattens the scores too; that is the cause to
        // name (embedding collapse). Both towers dead, or both alive with flat scores: similarity.
        let oneTowerDead = (f.imageSpread < t.spreadCollapsed) != (f.textSpread < t.spreadCollapsed)

        if case .hinge(let margin) = loss, let level = scoreScale(f, margin: margin, pinned: pinned) {
            result[.scoreScale] = level
        } else if pinned && flatScores && !oneTowerDead {
            result[.similarity] = .collapsed
        } else {
            let spread = min(f.imageSpread, f.textSpread)
            if spread < t.spreadCollapsed {
                result[.embedding] = .collapsed
            } else if spread < t.spreadWarning {
                result[.embedding] = .warning
            } else {
                let rank = min(f.imageRank, f.textRank)
                if rank < t.rankCollapsed { result[.dimensional] = .collapsed }
                else if rank < t.rankWarning { result[.dimensional] = .warning }
            }
        }

        if case .nPair = loss {
            let atMax = f.logScale >= logScaleRange.upperBound - t.clampDistance
            let atMin = f.logScale <= logScaleRange.lowerBound + t.clampDistance
            if atMin {
                result[.temperature] = .collapsed
            } else if atMax && !lossImproving() {
                result[.temperature] = .warning
            }
        }

        if f.gradientRatio >= t.gradientRatioCollapsed { result[.gradientImbalance] = .collapsed }
        else if f.gradientRatio >= t.gradientRatioWarning { result[.gradientImbalance] = .warning }
        return result
    }

    /// Under a margin loss: scores shrunk to nothing against the margin, the loss at 2·margin.
    private func scoreScale(_ f: CollapseFigures, margin: Double, pinned: Bool) -> Health? {
        let t = thresholds
        // Scores must sit below the margin too: equal but large cosines (normalised towers) are
        // flat similarity, not shrunk scores. Where they settle below it does not matter: once
        // their spread is gone every hinge is active and the loss is 2·margin.
        let belowMargin = abs(f.meanPositive) < margin
        if pinned && f.scoreSpread < t.scoreScaleFraction * margin && belowMargin { return .collapsed }
        let near = abs(f.loss - 2 * margin) <= t.scoreScaleWarningBand * 2 * margin
        return near && belowMargin && f.scoreSpread < t.scoreScaleWarningFraction * margin ? .warning : nil
    }

    /// Whether the mean loss of the last window is below that of the window before by a margin.
    private func lossImproving() -> Bool {
        let w = thresholds.window
        guard recentLosses.count >= 2 * w else { return true }
        let older = recentLosses.prefix(w).reduce(0, +) / Double(w)
        let newer = recentLosses.suffix(w).reduce(0, +) / Double(w)
        return newer < older * (1 - thresholds.minimumImprovement)
    }
}
