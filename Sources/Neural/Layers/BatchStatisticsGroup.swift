// Synchronised batch norm. When several processes each forward part of one batch (data-parallel
// training over MPI), a batch-norm layer that normalises each part by its own statistics computes
// another function than one process on the whole batch. With a group, the layer exchanges its
// per-channel figures (forward: count, mean and squared deviations; backward: the two gradient
// sums) so every member normalises by the whole batch's statistics and back-propagates its mean
// terms: together the members compute what one process computes, up to rounding.

/// The processes that share one batch. Neural does not know how they talk (Retrieval hands in
/// the MPI job); it only needs every member's figures.
public protocol BatchStatisticsGroup: AnyObject {
    /// Every member's `local` (all of one length), concatenated in member order, the same on
    /// every member. Every member must call it at the same point.
    func allGather(_ local: [Double]) -> [Double]
}

/// Per-channel count, mean and sum of squared deviations of a set of rows, mergeable exactly
/// (Chan et al.): the chunks of one batch, then the members of a group.
struct ChannelMoments {
    var rows = 0
    var mean: [Double]
    var squaredDeviations: [Double]

    init(channels: Int) {
        mean = [Double](repeating: 0, count: channels)
        squaredDeviations = mean
    }

    var channels: Int { mean.count }
    /// Biased variance per channel, as normalisation uses it.
    var variance: [Double] { squaredDeviations.map { $0 / Double(max(1, rows)) } }

    /// Adds `count` rows of mean `m` and squared deviations `m2` (pointers to C values each).
    mutating func merge(rows count: Int, mean m: UnsafePointer<Double>, squaredDeviations m2: UnsafePointer<Double>) {
        guard count > 0 else { return }
        let total = rows + count
        for j in 0..<channels {
            let delta = m[j] - mean[j]
            mean[j] += delta * Double(count) / Double(total)
            squaredDeviations[j] += m2[j] + delta * delta * Double(rows) * Double(count) / Double(total)
        }
        rows = total
    }

    /// These moments merged with those of every other member of `group`, in member order, so
    /// every member ends with the same figures.
    func merged(over group: any BatchStatisticsGroup) -> ChannelMoments {
        let c = channels, stride = 1 + 2 * c
        let all = group.allGather([Double(rows)] + mean + squaredDeviations)
        var result = ChannelMoments(channels: c)
        all.withUnsafeBufferPointer { p in
            for member in 0..<(all.count / stride) {
                let base = p.baseAddress! + member * stride
                result.merge(rows: Int(base[0]), mean: base + 1, squaredDeviations: base + 1 + c)
            }
        }
        return result
    }
}
