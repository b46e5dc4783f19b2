// The words of an alarm: which mode, since which step, the figures that show it, and the
// likely causes and cures. Kept apart from the detection so the thresholds read cleanly.
import Foundation

enum CollapseAdvice {
    /// What the monitor saw when it declared a mode.
    enum Evidence {
        /// One step's figures (the step modes).
        case figures(CollapseFigures)
        /// Top-1 retrieval within the batches of the last `steps` steps, against chance.
        case batchRetrieval(top1: Double, chance: Double, steps: Int)
        /// The smoothed loss and the best one from before the last `steps` steps.
        case stalled(loss: Double, best: Double, steps: Int, chanceLoss: Double, learningRateFraction: Double)
        /// A validation evaluation indistinguishable from a random ranking; `shortRun` holds the
        /// steps of a run that ended before the model had the time to learn.
        case validationAtChance(RecallReport, shortRun: Int?)
        /// Training pictures retrieved far better than validation ones.
        case overfitting(training: RecallReport, validation: RecallReport)
    }

    /// `final` marks a verdict given when training ended, on a condition that had not yet
    /// lasted a whole window.
    static func alarm(for mode: CollapseMode, health: Health, since: Int, at step: Int, evidence: Evidence,
                      loss: TrainingLoss, final: Bool = false) -> CollapseAlarm {
        let (what, figuresText, advice) = describe(mode, evidence, loss)
        let when = final ? "at the end of training (since step \(since))" : "since step \(since)"
        let summary = "\(health == .collapsed ? "COLLAPSE" : "warning"): \(what) \(when) (\(figuresText))"
        return CollapseAlarm(mode: mode, health: health, sinceStep: since, declaredAt: step,
                             summary: summary, advice: advice)
    }

    private static func n(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)g", v) }
    private static func percent(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }

    private static func describe(_ mode: CollapseMode, _ evidence: Evidence, _ loss: TrainingLoss) -> (String, String, String) {
        switch evidence {
        case .figures(let f): return describe(mode, f, loss)
        case .batchRetrieval(let top1, let chance, let steps):
            return ("learned nothing: the batches' own pairs are retrieved no better than by chance",
                    "top-1 in the batch \(percent(top1)) over the last \(steps) steps, chance \(percent(chance))",
                    learnedNothingAdvice)
        case .stalled(let current, let best, let steps, let chanceLoss, let rate):
            return ("stalled loss: the smoothed loss has not improved for \(steps) steps, far from its floor",
                    "loss \(n(current)), best before \(n(best)), chance \(n(chanceLoss)), learning rate \(percent(rate)) of its peak",
                    "raise the learning rate or give the slow part its own (--embedding-lr for the word tables), restart the schedule from the last weights (--init MODEL.last.safetensors with a new --lr), or try a schedule that decays (--final-lr below 1); check that the captions really describe the pictures")
        case .validationAtChance(let r, let shortRun):
            let chance = r.chance
            let text = String(format: "validation text→image R@10 %.1f (chance %.1f), image→text R@10 %.1f (chance %.1f), rank score %.3f where a random ranking gives 0 ± %.3f, on %d pictures",
                              r.textToImage.r10, chance?.textToImage.r10 ?? .nan, r.imageToText.r10,
                              chance?.imageToText.r10 ?? .nan, r.rankScore ?? .nan, r.rankScoreStandardError, r.images)
            if let steps = shortRun {
                return ("learned nothing yet: validation recall is no better than a random ranking, and the run was too short to tell why", text,
                        "train longer (\(steps) steps is too few for the model to learn; more --epochs or a smaller --batch gives more steps); if a longer run stays at chance, " + learnedNothingAdvice)
            }
            return ("learned nothing: validation recall is no better than a random ranking", text, learnedNothingAdvice)
        case .overfitting(let train, let validation):
            let text = String(format: "text→image R@10 %.1f on %d training pictures, %.1f on validation; rank score %.2f against %.2f",
                              train.textToImage.r10, train.images, validation.textToImage.r10,
                              train.rankScore ?? .nan, validation.rankScore ?? .nan)
            return ("overfitting: training pictures are retrieved far better than validation ones", text,
                    "the model memorises the training pairs: keep the best model (it is), train fewer epochs, keep augmentation on (--crop-scale, --jitter), raise --weight-decay, or add data; if validation sits at chance, check that captions and pictures are paired right")
        }
    }

    private static let learnedNothingAdvice = "check that each caption is paired with its own picture (a shifted or shuffled captions file learns nothing), that the pictures and captions differ from one another, and that the learning rate is sane (the default is 2e-3); look for the other alarms above for the mechanism"

    private static func describe(_ mode: CollapseMode, _ f: CollapseFigures, _ loss: TrainingLoss) -> (String, String, String) {
        switch mode {
        case .similarity:
            return ("similarity collapse: every image scores the same against every caption",
                    "loss \(n(f.loss)) ≈ ln B \(n(f.chanceLoss)), positive−negative gap \(n(f.gap)), score std \(n(f.scoreSpread))",
                    "lower the learning rate (×0.1), check that both towers end in L2 normalisation, keep the temperature learnable from 1/0.07, and check the data: one picture or one caption repeated everywhere, or captions not paired with their own pictures, leave nothing to learn")
        case .embedding:
            let tower = f.imageSpread < f.textSpread ? "image" : "text"
            return ("embedding collapse: the \(tower) tower maps every input to nearly one point",
                    "image spread \(n(f.imageSpread)), text spread \(n(f.textSpread))",
                    "lower the learning rate, check the \(tower) inputs really differ (preprocessing, a constant feature, one caption for every picture), add or fix a normalisation layer, use a larger batch")
        case .dimensional:
            return ("dimensional collapse: embeddings use only a few directions",
                    "effective rank image \(n(f.imageRank)) text \(n(f.textRank))",
                    "lower the learning rate (--lr) or the weight decay (--weight-decay), use a larger batch (--batch) or more varied data")
        case .scoreScale:
            let margin: Double
            if case .hinge(let m) = loss { margin = m } else { margin = 0 }
            return ("score-scale collapse: the margin loss shrank every score to nothing",
                    "loss \(n(f.loss)) ≈ 2×margin \(n(2 * margin)), score std \(n(f.scoreSpread)), mean positive \(n(f.meanPositive))",
                    "L2-normalise both towers (cosine scores), or use the N-pair loss with a learned temperature (--loss npair); a smaller margin (--margin) or learning rate helps only a little")
        case .temperature:
            let atFloor = f.logScale < 1
            return (atFloor ? "temperature runaway: the logit scale was driven to its minimum"
                            : "temperature pinned at its clamp while the loss does not improve",
                    "log-scale \(n(f.logScale)) (scale \(n(exp(f.logScale)))), loss \(n(f.loss))",
                    atFloor ? "lower the learning rate (--lr), check for duplicate captions that are treated as negatives, check the loss is not maximised"
                            : "lower the learning rate (--lr); check for label noise and duplicate pairs")
        case .nonFinite:
            return ("non-finite values: NaN or Inf in the loss, scores, embeddings or gradients",
                    "loss \(f.loss), log-scale \(f.logScale), gradient norms \(f.gradientNorms.mapValues { n($0) })",
                    "lower the learning rate, keep gradient clipping on (--clip), look for a corrupt input in this batch, and keep every log and exp guarded (log-sum-exp)")
        case .gradientImbalance:
            if f.groupRatio >= f.gradientRatio, let group = f.largestGroup {
                let cure = group.hasPrefix("text.tokens") || group.hasPrefix("text.position")
                    ? "give the tables their own learning rate (--embedding-lr)"
                    : "lower the learning rate (--lr)"
                return ("gradient imbalance: \(group)'s gradient is \(n(f.groupRatio, 2))× the median parameter group's",
                        "gradient norms " + top(f.groups.mapValues(\.gradientNorm)),
                        "\(cure) and keep clipping on (--clip); in the model's code, check \(group) for a missing normalisation or a scale mistake")
            }
            return ("gradient imbalance: one tower's gradient is \(n(f.gradientRatio, 2))× the other's",
                    top(f.gradientNorms),
                    "lower the learning rate (--lr) and keep clipping on (--clip); in the model's code, give the towers their own learning rates, normalise the larger tower's output, or rescale the sum of the two parts")
        case .learnedNothing, .stalledLoss, .overfitting:
            return (mode.rawValue, "loss \(n(f.loss))", learnedNothingAdvice)
        }
    }

    /// The largest few of `norms`, largest first.
    private static func top(_ norms: [String: Double]) -> String {
        norms.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key) \(n($0.value))" }.joined(separator: ", ")
    }
}
