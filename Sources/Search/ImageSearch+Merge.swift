// Merging result lists that came from different shards or ranks into one answer: the order of
// one index (score descending, then path), cut to k, then the likelihood cut of a caption query.
// A distributed query (`mpirun retrieve query`) gathers each rank's k best and merges them here.
import Foundation

extension ImageSearch {
    /// The best `k` of the union of `lists` (each from disjoint shards) in the order one index
    /// gives, then cut before the first result less likely than `minLikelihood` (results carry
    /// their likelihood already, or none). Also how many the cut left out.
    public static func merge(_ lists: [[SearchResult]], k: Int, minLikelihood: Double?) -> (kept: [SearchResult], cut: Int) {
        let best = Array(lists.joined().sorted { ShardedIndex.ranksBefore($0.score, $0.path, $1.score, $1.path) }.prefix(k))
        guard let minLikelihood else { return (best, 0) }
        let kept = Array(best.prefix { ($0.likelihood ?? 1) >= minLikelihood })
        return (kept, best.count - kept.count)
    }
}
