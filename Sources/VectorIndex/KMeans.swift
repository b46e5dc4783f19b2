// k-means for the IVF coarse quantiser: random initial centres from a seeded sample, a fixed
// number of Lloyd iterations with assignments by `gemm` (score x·c − ‖c‖²/2, argmax), sums
// split over threads, empty clusters re-seeded from rows of large clusters. Spherical by
// default (centres renormalised), as FAISS does for inner-product IVF.
import CKernels
import Neural

/// Lloyd's k-means on rows of Float; `train` returns centres and the inertia per iteration.
public struct KMeans: Sendable {
    public var clusters: Int
    public var iterations = 20
    /// Training uses at most this many rows per cluster (a seeded random sample).
    public var maxPointsPerCluster = 64
    /// Renormalise centres to unit length after each update (inner-product search).
    public var spherical = true
    /// Rows per GEMM tile during assignment; each thread holds one tile of rows × clusters
    /// scores (4 MB at 4000 clusters), small enough to stay in cache for the argmax.
    public var assignBlock = 256
    public var threads = SearchParameters.defaultThreadCount

    public init(clusters: Int) {
        precondition(clusters > 0, "KMeans needs at least one cluster, got \(clusters)")
        self.clusters = clusters
    }

    /// Centres (clusters, d) and Σ‖x − c(x)‖² over the sample before each update (one per
    /// iteration, as FAISS's objective; the centres after the last update are not re-scored).
    public struct Result: Sendable {
        public var centroids: Tensor
        public var inertia: [Double]
    }

    /// Trains on `count` rows of `dimension` Floats at `data`.
    public func train(_ data: UnsafePointer<Float>, count n: Int, dimension d: Int,
                      using rng: inout SeededGenerator) -> Result {
        precondition(n >= clusters, "KMeans: \(n) rows cannot make \(clusters) clusters")
        let k = clusters
        // The training sample: a sorted random subset, copied contiguous.
        let sampleCount = min(n, k * maxPointsPerCluster)
        var sample = [Float](repeating: 0, count: sampleCount * d)
        let picked = sampleCount == n ? Array(0..<n) : Array(rng.permutation(of: n).prefix(sampleCount)).sorted()
        sample.withUnsafeMutableBufferPointer { s in
            for (i, r) in picked.enumerated() { (s.baseAddress! + i * d).update(from: data + r * d, count: d) }
        }
        // Initial centres: k distinct sample rows.
        var centroids = [Float](repeating: 0, count: k * d)
        let initial = rng.permutation(of: sampleCount).prefix(k)
        sample.withUnsafeBufferPointer { s in
            centroids.withUnsafeMutableBufferPointer { c in
                for (j, r) in initial.enumerated() { (c.baseAddress! + j * d).update(from: s.baseAddress! + r * d, count: d) }
            }
        }
        var norms: Float = 0
        sample.withUnsafeBufferPointer { s in for v in s { norms += v * v } }
        var assignment = [Int32](repeating: 0, count: sampleCount)
        var best = [Float](repeating: 0, count: sampleCount)
        var inertia: [Double] = []
        // As FAISS: `iterations` assignments, each followed by an update (no final assignment).
        for _ in 0..<iterations {
            sample.withUnsafeBufferPointer { s in
                assign(s.baseAddress!, count: sampleCount, dimension: d, centroids: centroids,
                       assignment: &assignment, bestScore: &best)
            }
            inertia.append(Double(norms) - 2 * best.reduce(0.0) { $0 + Double($1) })
            update(sample, count: sampleCount, dimension: d, assignment: assignment,
                   centroids: &centroids, using: &rng)
        }
        return Result(centroids: Tensor(shape: [k, d], data: centroids), inertia: inertia)
    }

    /// For each row, the centre maximising x·c − ‖c‖²/2 (the nearest in L2; for unit centres,
    /// the best inner product) and that score. Rows go in tiles of `assignBlock`, taken from a
    /// shared counter by the threads; each thread runs a one-thread `gemm` per tile and takes each row's argmax while
    /// the tile's scores are still in its cache (no OpenBLAS pool spinning between phases).
    public func assign(_ data: UnsafePointer<Float>, count n: Int, dimension d: Int, centroids: [Float],
                       assignment: inout [Int32], bestScore: inout [Float]) {
        let k = centroids.count / d
        precondition(k * d == centroids.count && assignment.count >= n && bestScore.count >= n,
                     "KMeans.assign: \(centroids.count) centre values for d=\(d), \(n) rows")
        if n == 0 { return }
        var halfNorms = [Float](repeating: 0, count: k)
        centroids.withUnsafeBufferPointer { c in
            for j in 0..<k { halfNorms[j] = 0.5 * rk_dot(c.baseAddress! + j * d, c.baseAddress! + j * d, d) }
        }
        let block = max(1, min(assignBlock, n))
        let tiles = (n + block - 1) / block
        let workers = max(1, min(threads, tiles))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * block * k)
        defer { scratch.deallocate() }
        centroids.withUnsafeBufferPointer { c in
            halfNorms.withUnsafeBufferPointer { h in
                assignment.withUnsafeMutableBufferPointer { asg in
                    bestScore.withUnsafeMutableBufferPointer { bs in
                        parallelItems(tiles, slots: workers) { w, tile in
                            let scores = scratch + w * block * k
                            let start = tile * block, m = min(block, n - start)
                            gemm(.none, .transposed, m: m, n: k, k: d, a: data + start * d, lda: d,
                                 b: c.baseAddress!, ldb: d, c: scores, ldc: k, parallel: workers == 1)
                            for i in 0..<m {
                                var best: Float = 0
                                asg[start + i] = Int32(rk_argmax_minus(scores + i * k, h.baseAddress!, k, &best))
                                bs[start + i] = best
                            }
                        }
                    }
                }
            }
        }
    }

    /// Means of the assigned rows; empty clusters take a row from a cluster of more than one.
    private func update(_ sample: [Float], count n: Int, dimension d: Int, assignment: [Int32],
                        centroids: inout [Float], using rng: inout SeededGenerator) {
        let k = clusters
        let parts = max(1, min(threads, n / 4096))
        var sums = [[Float]](repeating: [Float](repeating: 0, count: k * d), count: parts)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: k), count: parts)
        sample.withUnsafeBufferPointer { s in
            sums.withUnsafeMutableBufferPointer { sumsP in
                counts.withUnsafeMutableBufferPointer { countsP in
                    parallelFor(parts) { t in
                        sumsP[t].withUnsafeMutableBufferPointer { acc in
                            for i in splitRange(n, parts: parts, part: t) {
                                let j = Int(assignment[i])
                                countsP[t][j] += 1
                                let row = s.baseAddress! + i * d, dst = acc.baseAddress! + j * d
                                for x in 0..<d { dst[x] += row[x] }
                            }
                        }
                    }
                }
            }
        }
        var total = counts[0]
        for t in 1..<parts { for j in 0..<k { total[j] += counts[t][j] } }
        centroids.withUnsafeMutableBufferPointer { c in
            for j in 0..<k where total[j] > 0 {
                let dst = c.baseAddress! + j * d
                for x in 0..<d {
                    var v: Float = 0
                    for t in 0..<parts { v += sums[t][j * d + x] }
                    dst[x] = v / Float(total[j])
                }
            }
            // Re-seed empty clusters from random rows whose cluster keeps at least one other row.
            for j in 0..<k where total[j] == 0 {
                for _ in 0..<64 {
                    let i = rng.nextIndex(below: n)
                    let from = Int(assignment[i])
                    if total[from] > 1 {
                        total[from] -= 1
                        total[j] = 1
                        sample.withUnsafeBufferPointer { s in
                            (c.baseAddress! + j * d).update(from: s.baseAddress! + i * d, count: d)
                        }
                        break
                    }
                }
            }
            if spherical {
                for j in 0..<k {
                    let p = c.baseAddress! + j * d
                    let norm = rk_dot(p, p, d).squareRoot()
                    if norm > 0 { for x in 0..<d { p[x] /= norm } }
                }
            }
        }
    }
}

