// The words of an alarm: which mode, since which step, the figures that show it, and the
// likely causes and cures. Kept apart from the detection so the thresholds read cleanly.
import Foundation

enum CollapseAdvice {
    static func alarm(for mode: CollapseMode, health: Health, since: Int, figures f: CollapseFigures,
                      loss: MonitoredLoss) -> CollapseAlarm {
        let (what, figuresText, advice) = describe(mode, f, loss)
        let summary = "\(health == .collapsed ? "COLLAPSE" : "warning"): \(what) since step \(since) (\(figuresText))"
        return CollapseAlarm(mode: mode, health: health, sinceStep: since, declaredAt: f.step,
                             summary: summary, advice: advice)
    }

    private static func describe(_ mode: CollapseMode, _ f: CollapseFigures,
                                 _ loss: MonitoredLoss) -> (String, String, String) {
        func n(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)g", v) }
        switch mode {
        case .similarity:
            return ("similarity collapse: every image scores the same against every caption",
                    "loss \(n(f.loss)) ≈ ln B \(n(f.chanceLoss)), positive−negative gap \(n(f.gap)), score std \(n(f.scoreSpread))",
                    "lower the learning rate (×0.1), check that both towers end in L2 normalisation, keep the temperature learnable from 1/0.07, and check the data for one caption repeated on every image")
        case .embedding:
            let tower = f.imageSpread < f.textSpread ? "image" : "text"
            return ("embedding collapse: the \(tower) tower maps every input to nearly one point",
                    "image spread \(n(f.imageSpread)), text spread \(n(f.textSpread))",
                    "lower the learning rate, check the \(tower) inputs really differ (preprocessing, a constant feature), add or fix a normalisation layer, use a larger batch")
        case .dimensional:
            return ("dimensional collapse: embeddings use only a few directions",
                    "effective rank image \(n(f.imageRank)) text \(n(f.textRank))",
                    "lower the learning rate or the weight decay, raise the temperature's floor, use a larger batch or more varied data")
        case .scoreScale:
            let margin: Double
            if case .hinge(let m) = loss { margin = m } else { margin = 0 }
            return ("score-scale collapse: the margin loss shrank every score to nothing",
                    "loss \(n(f.loss)) ≈ 2×margin \(n(2 * margin)), score std \(n(f.scoreSpread)), mean positive \(n(f.meanPositive))",
                    "L2-normalise both towers (cosine scores), or use the N-pair loss with a learned temperature; a smaller margin or learning rate helps only a little")
        case .temperature:
            let atFloor = f.logScale < 1
            return (atFloor ? "temperature runaway: the logit scale was driven to its minimum"
                            : "temperature pinned at its clamp while the loss does not improve",
                    "log-scale \(n(f.logScale)) (scale \(n(exp(f.logScale)))), loss \(n(f.loss))",
                    atFloor ? "lower the learning rate, check for duplicate captions that are treated as negatives, check the loss is not maximised"
                            : "lower the learning rate or clamp the scale lower (log 50); check for label noise and duplicate pairs")
        case .nonFinite:
            return ("non-finite values: NaN or Inf in the loss, scores, embeddings or gradients",
                    "loss \(f.loss), log-scale \(f.logScale), gradient norms \(f.gradientNorms.mapValues { n($0) })",
                    "lower the learning rate, enable gradient clipping, look for a corrupt input in this batch, and keep every log and exp guarded (log-sum-exp)")
        case .gradientImbalance:
            let sorted = f.gradientNorms.sorted { $0.value > $1.value }
            let text = sorted.map { "\($0.key) \(n($0.value))" }.joined(separator: ", ")
            return ("gradient imbalance: one parameter group's gradient is \(n(f.gradientRatio, 2))× another's",
                    text,
                    "give the groups their own learning rates, normalise the larger part's output, or rescale the sum of the two parts")
        }
    }
}
