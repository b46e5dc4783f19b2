// The collapse monitor's thresholds, with the healthy figures behind them in docs/monitor.md,
// and how the step counts among them scale with the length of a run, so that a short first run
// is judged as surely as a long one.
import Foundation

/// Thresholds, defaulted from healthy runs on the shapes data and on real pictures, batch
/// 32–256, dimension 64–512 (docs/monitor.md has the figures behind them).
public struct CollapseThresholds: Codable, Sendable, Equatable {
    /// Consecutive steps a condition must hold before it is declared.
    public var window = 20
    /// Steps at the start of training that are never judged (a fresh model sits near chance).
    public var graceSteps = 50
    /// Steps the model is given to learn before its retrieval is compared with chance (the
    /// batches' own, and validation recall).
    public var learningSteps = 100
    /// Steps without improvement of the smoothed loss after which it counts as stalled.
    public var stallSteps = 200
    /// |loss − pinned value| below this fraction of the pinned value counts as pinned.
    public var pinnedLoss = 0.02
    /// Positive–negative gap and score spread below these, with a pinned loss: all-equal scores.
    public var similarityGap = 0.02
    public var similarityScoreSpread = 0.02
    /// Relative spread of a tower's batch: below these, it maps inputs to one point.
    public var spreadWarning = 0.1
    public var spreadCollapsed = 0.03
    /// Effective number of directions (participation ratio) below these, judged once the model
    /// had `learningSteps` to learn: on real pictures a fresh image tower's batch is dominated
    /// by one direction (healthy icons runs dip to 1.33 around step 12 and stay near 1.55–1.9
    /// in a 45-step run), while a learning rate far too high drives it to 1.0–1.2 (docs/monitor.md).
    public var rankWarning = 1.4
    public var rankCollapsed = 1.2
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
    /// Largest/smallest tower gradient norm, and the largest parameter group's gradient norm
    /// over the median group's.
    public var gradientRatioWarning = 30.0
    public var gradientRatioCollapsed = 100.0
    /// In-batch top-1 hits within this many binomial standard errors of chance's are chance.
    public var batchChanceErrors = 3.0
    /// A validation rank score (1 − 2 × mean share of rivals ahead of the truth: 0 at chance, 1
    /// perfect) within this many standard errors of a random ranking's, or below
    /// `minimumRankScore` however many pictures were ranked, is chance. Two, not three: a
    /// healthy but slow model on 36 validation pictures scores 0.25 at a quarter of its run,
    /// inside three standard errors (0.29) but outside two (0.19); shuffled captions score
    /// −0.06 to 0.07 on 64–103 pictures (docs/monitor.md).
    public var validationChanceErrors = 2.0
    public var minimumRankScore = 0.05
    /// Stalled: the best smoothed loss of the last `stallSteps` is not this fraction below the
    /// best before them, while the loss is above `stalledLossFraction` of its chance value and
    /// the learning rate at least `stalledRateFraction` of its peak.
    public var stallImprovement = 0.02
    public var stalledLossFraction = 0.5
    public var stalledRateFraction = 0.5
    /// Overfitting: validation's rank score below this fraction of the training pictures'
    /// (measured on as many of them, without augmentation), with training at least
    /// `overfittingTrainingScore`. A third: a healthy small set (553 training icons) ends with
    /// validation at half of training's, memorised shuffled captions at a tenth.
    public var overfittingRatio = 1.0 / 3
    public var overfittingTrainingScore = 0.5

    public init() {}

    /// The thresholds for a run of `totalSteps`: grace and window shrink with the run (a run of
    /// 20 steps is judged from its 6th step and can be stopped at its 10th), learning and
    /// stalling are given a fifth and a quarter of it, none of them more than the defaults'
    /// caps (grace 50, window 20, learning 500, stall 500), so a long run is judged early too.
    public static func forRun(totalSteps: Int) -> CollapseThresholds {
        var t = CollapseThresholds()
        t.window = min(20, max(5, totalSteps / 8))
        t.graceSteps = min(50, max(5, totalSteps / 10))
        t.learningSteps = min(500, max(t.graceSteps + t.window, 20, totalSteps / 4))
        t.stallSteps = min(500, max(2 * t.window, totalSteps / 4))
        return t
    }
}
