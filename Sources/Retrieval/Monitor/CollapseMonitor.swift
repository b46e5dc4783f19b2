// Watches training and names each known way a contrastive or ranking model converges to a
// useless solution. Step figures are judged after a grace period and declared once a
// condition persists over a window of steps (non-finite values at once); evaluations are
// judged against chance (CollapseMonitor+Outcome.swift); when training ends, a final verdict
// covers what was building up, and a mode never judged says so. Precedence keeps one cause one
// alarm: non-finite > score scale > similarity > embedding > dimensional, except that one tower
// collapsed alone is embedding collapse even when it flattens the scores.
import Foundation

/// Turns each step's figures and each evaluation into a state per mode, and alarms when a
/// mode gets worse.
public final class CollapseMonitor {
    public let loss: TrainingLoss
    public let logScaleRange: ClosedRange<Double>
    public let thresholds: CollapseThresholds
    /// The modes this loss can show, in the order they are reported.
    public let modes: [CollapseMode]
    /// Every alarm raised so far, in order.
    public private(set) var alarms: [CollapseAlarm] = []

    /// How long a mode's condition has held: any level, and the collapsed level alone.
    struct Streak {
        var since = 0
        var unhealthy = 0
        var collapsed = 0
    }
    var streaks: [CollapseMode: Streak] = [:]
    /// The level each mode's step figures give, and the level evaluations give (sticky until
    /// the next evaluation); a mode's state is the worse of the two once it has been judged.
    var stepLevels: [CollapseMode: Health] = [:]
    var outcomeLevels: [CollapseMode: Health] = [:]
    var judged: Set<CollapseMode> = []
    /// The worst level each mode has raised an alarm at (since the last rollback).
    private var raisedLevels: [CollapseMode: Health] = [:]
    private var recentLosses: [Double] = []
    /// Rolling means of the loss over a window, the last `stallSteps` of them, and the best
    /// one from before those.
    private var smoothedLosses: [Double] = []
    private var bestEarlierLoss = Double.infinity
    /// This window's batch retrieval: (top-1 hits, chance hits, queries) per step.
    var batchRetrieval: [(hits: Double, chance: Double, queries: Double)] = []
    var lastStep = 0
    /// Steps seen (since the monitor started: a resumed run starts a new monitor).
    private(set) var observed = 0
    /// The rank scores of the judged evaluations at chance in a row so far, and since which step.
    var chanceScores: [Double] = []
    var chanceSince = 0
    /// The last step's figures and the evidence of its conditions, for the final verdict.
    var lastFigures: CollapseFigures?
    var lastEvidence: [CollapseMode: CollapseAdvice.Evidence] = [:]

    public init(loss: TrainingLoss = .nPair, logScaleRange: ClosedRange<Double> = 0...log(100),
                thresholds: CollapseThresholds = CollapseThresholds()) {
        self.loss = loss
        self.logScaleRange = logScaleRange
        self.thresholds = thresholds
        self.modes = CollapseMode.applicable(to: loss)
    }

    /// The current state of every mode this loss can show.
    public var states: [CollapseMode: Health] {
        Dictionary(uniqueKeysWithValues: modes.map { ($0, state(of: $0)) })
    }

    func state(of mode: CollapseMode) -> Health {
        guard judged.contains(mode) else { return .notJudged }
        return max(stepLevels[mode] ?? .healthy, outcomeLevels[mode] ?? .healthy)
    }

    /// Forgets the current streaks and levels (after a rollback); the alarm history stays, and
    /// the grace period is not granted again (the restored model is not a fresh one).
    public func reset() {
        streaks = [:]
        recentLosses = []
        smoothedLosses = []
        bestEarlierLoss = .infinity
        batchRetrieval = []
        stepLevels = [:]
        outcomeLevels = [:]
        raisedLevels = [:]
        chanceScores = []
    }

    /// The worst state over all modes (not judged when none has been).
    public var overall: Health { modes.map(state(of:)).max() ?? .notJudged }

    /// True when every judged mode is healthy and no condition is building up either: a state
    /// worth keeping for a rollback (a healthy-looking step inside a window may already be sick).
    public var isSettled: Bool {
        modes.allSatisfy { state(of: $0) <= .healthy } && streaks.values.allSatisfy { $0.unhealthy == 0 }
    }

    /// Judges one step; returns the alarms this step raised (usually none).
    @discardableResult
    public func observe(_ figures: CollapseFigures) -> [CollapseAlarm] {
        observed += 1
        lastStep = figures.step
        lastFigures = figures
        remember(figures)
        let conditions = judge(figures)
        lastEvidence = conditions.compactMapValues(\.evidence)
        var raised: [CollapseAlarm] = []
        for mode in modes where isJudgedOnSteps(mode) {
            let level = conditions[mode]?.level ?? .healthy
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
            let stepLevel: Health = streak.collapsed >= needed ? .collapsed : streak.unhealthy >= needed ? .warning : .healthy
            if let alarm = setLevel(stepLevel, of: mode, onSteps: true, since: streak.since, at: figures.step,
                                    evidence: { conditions[mode]?.evidence ?? .figures(figures) }) {
                raised.append(alarm)
            }
        }
        return raised
    }

    /// Sets one source's level of `mode`; returns the alarm when the mode's state got worse.
    func setLevel(_ level: Health, of mode: CollapseMode, onSteps: Bool, since: Int, at step: Int,
                  final: Bool = false, evidence: () -> CollapseAdvice.Evidence) -> CollapseAlarm? {
        let before = state(of: mode)
        if !onSteps || level > .healthy || hasJudgedEnoughSteps(for: mode) { judged.insert(mode) }
        if onSteps { stepLevels[mode] = level } else { outcomeLevels[mode] = level }
        let after = state(of: mode)
        // One alarm per mode and level: a condition that comes and goes is not news each time.
        guard after > before, after > .healthy, after > (raisedLevels[mode] ?? .healthy) else { return nil }
        raisedLevels[mode] = after
        let alarm = CollapseAdvice.alarm(for: mode, health: after, since: since, at: step, evidence: evidence(),
                                         loss: loss, final: final)
        alarms.append(alarm)
        return alarm
    }

    /// Whether enough steps were judged for "healthy" to mean something: half a window (at
    /// least two steps), the least the final verdict declares on; every step for non-finite values.
    private func hasJudgedEnoughSteps(for mode: CollapseMode) -> Bool {
        mode == .nonFinite || observed - thresholds.graceSteps >= max(2, (thresholds.window + 1) / 2)
    }

    /// Whether the step figures judge `mode` yet: non-finite values from the first step, the
    /// batches' own retrieval and the effective rank once the model had time to learn, a stall once there is a
    /// loss history to compare, the rest after the grace; overfitting only from evaluations.
    private func isJudgedOnSteps(_ mode: CollapseMode) -> Bool {
        switch mode {
        case .nonFinite: return true
        case .overfitting: return false
        case .learnedNothing, .dimensional: return observed >= thresholds.learningSteps
        case .stalledLoss: return observed > thresholds.graceSteps && bestEarlierLoss.isFinite
        default: return observed > thresholds.graceSteps
        }
    }

    /// Keeps the loss and batch-retrieval history the windowed conditions read.
    private func remember(_ f: CollapseFigures) {
        let w = thresholds.window
        recentLosses.append(f.loss)
        if recentLosses.count > 2 * w { recentLosses.removeFirst() }
        if f.loss.isFinite, recentLosses.count >= w {
            smoothedLosses.append(recentLosses.suffix(w).reduce(0, +) / Double(w))
            if smoothedLosses.count > thresholds.stallSteps {
                bestEarlierLoss = min(bestEarlierLoss, smoothedLosses.removeFirst())
            }
        }
        let queries = Double(2 * f.batchSize)
        batchRetrieval.append((f.batchTop1 * queries, f.batchTop1Chance * queries, queries))
        if batchRetrieval.count > w { batchRetrieval.removeFirst() }
    }

    typealias Condition = (level: Health, evidence: CollapseAdvice.Evidence?)

    /// Each mode's condition on this step alone, before the window.
    private func judge(_ f: CollapseFigures) -> [CollapseMode: Condition] {
        var result: [CollapseMode: Condition] = [:]
        if !f.allFinite {
            result[.nonFinite] = (.collapsed, nil)
            return result
        }
        guard observed > thresholds.graceSteps else { return result }
        let t = thresholds

        // A loss pinned where all-equal scores put it.
        let pinned = abs(f.loss - pinnedLoss(f)) <= t.pinnedLoss * max(pinnedLoss(f), 1e-6)
        let flatScores = abs(f.gap) < t.similarityGap && f.scoreSpread < t.similarityScoreSpread
        // One tower mapping everything to one point flattens the scores too; that is the cause to
        // name (embedding collapse). Both towers dead, or both alive with flat scores: similarity.
        let oneTowerDead = (f.imageSpread < t.spreadCollapsed) != (f.textSpread < t.spreadCollapsed)

        if case .hinge(let margin) = loss, let level = scoreScale(f, margin: margin, pinned: pinned) {
            result[.scoreScale] = (level, nil)
        } else if pinned && flatScores && !oneTowerDead {
            result[.similarity] = (.collapsed, nil)
        } else {
            let spread = min(f.imageSpread, f.textSpread)
            if spread < t.spreadCollapsed {
                result[.embedding] = (.collapsed, nil)
            } else if spread < t.spreadWarning {
                result[.embedding] = (.warning, nil)
            } else if observed >= t.learningSteps {
                let rank = min(f.imageRank, f.textRank)
                if rank < t.rankCollapsed { result[.dimensional] = (.collapsed, nil) }
                else if rank < t.rankWarning { result[.dimensional] = (.warning, nil) }
            }
        }

        if loss.hasTemperature {
            let atMax = f.logScale >= logScaleRange.upperBound - t.clampDistance
            let atMin = f.logScale <= logScaleRange.lowerBound + t.clampDistance
            if atMin {
                result[.temperature] = (.collapsed, nil)
            } else if atMax && !lossImproving() {
                result[.temperature] = (.warning, nil)
            }
        }

        let ratio = max(f.gradientRatio, f.groupRatio)
        if ratio >= t.gradientRatioCollapsed { result[.gradientImbalance] = (.collapsed, nil) }
        else if ratio >= t.gradientRatioWarning { result[.gradientImbalance] = (.warning, nil) }

        // The outcome: a named collapse of the scores or embeddings already explains chance-level
        // retrieval, so it is the alarm; otherwise retrieval at chance is learning nothing.
        let explained = result.values.contains { $0.level == .collapsed }
        if observed >= t.learningSteps, !explained, let evidence = batchRetrievalAtChance() {
            result[.learnedNothing] = (.collapsed, evidence)
        }
        if result.isEmpty, let evidence = stalled(f) { result[.stalledLoss] = (.warning, evidence) }
        return result
    }

    /// The loss all-equal scores give: ln B for N-pair, 2·margin for the hinge, and for the
    /// sigmoid loss that of every pair at the batch's mean logit (`chanceLoss` then holds it:
    /// the learned bias moves it, so it is no constant).
    func pinnedLoss(_ f: CollapseFigures) -> Double {
        switch loss {
        case .nPair, .sigmoid: return f.chanceLoss
        case .hinge(let margin): return 2 * margin
        }
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

    /// The evidence when the last window's batches retrieved their own pairs no better than
    /// chance (fewer top-1 hits than chance plus `batchChanceErrors` binomial errors).
    func batchRetrievalAtChance() -> CollapseAdvice.Evidence? {
        guard !batchRetrieval.isEmpty else { return nil }
        let hits = batchRetrieval.reduce(0) { $0 + $1.hits }
        let chance = batchRetrieval.reduce(0) { $0 + $1.chance }
        let queries = batchRetrieval.reduce(0) { $0 + $1.queries }
        let p = chance / queries
        let error = (queries * p * (1 - p)).squareRoot()
        guard hits <= chance + thresholds.batchChanceErrors * error else { return nil }
        return .batchRetrieval(top1: hits / queries, chance: p, steps: batchRetrieval.count)
    }

    /// The evidence when the smoothed loss has not improved over `stallSteps` while far from its
    /// floor and with the learning rate still near its peak.
    private func stalled(_ f: CollapseFigures) -> CollapseAdvice.Evidence? {
        let t = thresholds
        guard bestEarlierLoss.isFinite, let current = smoothedLosses.last,
              let recentBest = smoothedLosses.min() else { return nil }
        let farFromFloor = current > t.stalledLossFraction * pinnedLoss(f)
        let rateHigh = f.learningRateFraction >= t.stalledRateFraction
        guard recentBest > bestEarlierLoss * (1 - t.stallImprovement), farFromFloor, rateHigh else { return nil }
        return .stalled(loss: current, best: bestEarlierLoss, steps: t.stallSteps, chanceLoss: pinnedLoss(f),
                        learningRateFraction: f.learningRateFraction)
    }
}
