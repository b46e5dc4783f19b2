// The monitor's judgement of what a run achieved rather than how its steps look: each
// validation evaluation against a random ranking (learned nothing), training against validation
// retrieval (overfitting), and the final verdict when training ends, which declares what was
// still building up and leaves what was never judged as "not judged".
import Foundation

extension CollapseMonitor {
    /// Whether an evaluation of `report.images` pictures can tell learning from chance: a band of
    /// `validationChanceErrors` standard errors around a random ranking's rank score narrower
    /// than this (15 pictures or more). Smaller validation sets leave the verdict to the
    /// batches' own retrieval.
    static let widestChanceBand = 0.3

    /// Judges one evaluation: `validation` on the held-out pictures and, when given, `training`
    /// on as many training pictures without augmentation. `final` marks the evaluation that ends
    /// the run. An evaluation before the monitor has seen `learningSteps` steps is not judged,
    /// unless it is the last, and then at chance is only a warning: the run was too short.
    @discardableResult
    public func observe(evaluation validation: RecallReport, training: RecallReport?, step: Int,
                        final: Bool = false) -> [CollapseAlarm] {
        guard observed >= thresholds.learningSteps || final else { return [] }
        var raised: [CollapseAlarm] = []
        if let atChance = isAtChance(validation), let score = validation.rankScore {
            // An evaluation at chance is a warning. It is a collapse once the model had time to
            // learn and the evaluations at chance in a row (two or more, or the last one) average
            // within one standard error of a random ranking: a slow model that hovers near the
            // edge of the band stays a warning.
            let hadTime = observed >= thresholds.learningSteps
            if atChance && chanceScores.isEmpty { chanceSince = step }
            chanceScores = atChance ? chanceScores + [score] : []
            let mean = chanceScores.reduce(0, +) / Double(max(1, chanceScores.count))
            let nearZero = mean < max(thresholds.minimumRankScore, validation.rankScoreStandardError)
            let level: Health = !atChance ? .healthy
                : hadTime && (chanceScores.count >= 2 || final) && nearZero ? .collapsed : .warning
            if let alarm = setLevel(level, of: .learnedNothing, onSteps: false, since: chanceSince, at: step,
                                    evidence: { .validationAtChance(validation, shortRun: hadTime ? nil : observed) }) {
                raised.append(alarm)
            }
        }
        if let training, let trainScore = training.rankScore, let score = validation.rankScore {
            let t = thresholds
            let overfit = trainScore >= t.overfittingTrainingScore && score < t.overfittingRatio * trainScore
            if let alarm = setLevel(overfit ? .warning : .healthy, of: .overfitting, onSteps: false, since: step, at: step,
                                    evidence: { .overfitting(training: training, validation: validation) }) {
                raised.append(alarm)
            }
        }
        return raised
    }

    /// True when `report` ranks no better than chance, false when it stands clearly above it,
    /// nil when it has too few pictures to tell.
    func isAtChance(_ report: RecallReport) -> Bool? {
        guard let score = report.rankScore, report.images >= 2 else { return nil }
        let band = thresholds.validationChanceErrors * report.rankScoreStandardError
        guard band <= Self.widestChanceBand else { return nil }
        return score < max(thresholds.minimumRankScore, band)
    }

    /// The final verdict when training ends: a condition that held over the last steps but had
    /// not yet lasted a window (at least half of one, two steps or more) is declared, and the
    /// batches' own retrieval is judged for a run too short to have reached `learningSteps`.
    /// Modes that could never be judged stay not judged.
    @discardableResult
    public func finish() -> [CollapseAlarm] {
        var raised: [CollapseAlarm] = []
        let needed = max(2, (thresholds.window + 1) / 2)
        for mode in modes where mode != .nonFinite {
            guard let streak = streaks[mode], streak.unhealthy >= needed, let figures = lastFigures else { continue }
            let level: Health = streak.collapsed >= needed ? .collapsed : .warning
            guard level > (stepLevels[mode] ?? .healthy) else { continue }
            if let alarm = setLevel(level, of: mode, onSteps: true, since: streak.since, at: lastStep, final: true,
                                    evidence: { lastEvidence[mode] ?? .figures(figures) }) {
                raised.append(alarm)
            }
        }
        // A run shorter than the time given to learn: its last window of batches is the evidence,
        // a warning only, as the model may simply have had too few steps.
        if !judged.contains(.learnedNothing), lastStep > thresholds.graceSteps {
            let evidence = batchRetrievalAtChance()
            if let alarm = setLevel(evidence == nil ? .healthy : .warning, of: .learnedNothing, onSteps: false,
                                    since: lastStep, at: lastStep, final: true, evidence: { evidence! }) {
                raised.append(alarm)
            }
        }
        return raised
    }
}
