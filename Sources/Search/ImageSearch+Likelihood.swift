// The likelihood of caption-query results and the default cut-off. Only a query of one caption
// gets one: the calibration measured caption–picture scores, and a picture query or a weighted
// sum of terms scores on another scale.
import Foundation
import Retrieval

extension ImageSearch {
    /// The model's calibration, nil when its file has none (or a damaged one).
    public var calibration: ScoreCalibration? { model.calibration }

    /// `results` (best first) with their likelihood, cut before the first below `minLikelihood`,
    /// and how many were cut. Likelihood never falls as the score rises, so the cut keeps a prefix.
    func likely(_ results: [SearchResult], _ minLikelihood: Double?) -> (kept: [SearchResult], cut: Int) {
        guard let calibration else { return (results, 0) }
        let rated = results.map { r -> SearchResult in
            var r = r
            r.likelihood = calibration.likelihood(of: r.score)
            return r
        }
        guard let minLikelihood else { return (rated, 0) }
        let kept = Array(rated.prefix { $0.likelihood! >= minLikelihood })
        return (kept, rated.count - kept.count)
    }
}
