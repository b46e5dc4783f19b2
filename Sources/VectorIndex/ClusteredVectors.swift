// Seeded synthetic embeddings with cluster structure, the same mixture FAISS's benchmark draws
// (faiss_bench.py): centres in a random latent subspace plus ambient noise, or (latent 0)
// centres on the unit sphere plus isotropic noise; rows L2-normalised.
import CKernels
import Foundation
import Neural

/// A Gaussian mixture over R^d whose draws are unit rows; `draw` is deterministic per seed.
public struct ClusteredVectors: Sendable {
    public let dimension: Int
    public let latentDimension: Int
    public let sigma: Float
    public let ambient: Float
    /// (clusters, latent) or, when latent is 0, (clusters, d) unit centres.
    let centres: [Float]
    /// (latent, d) orthonormal rows spanning the subspace; empty when latent is 0.
    let basis: [Float]
    public let clusters: Int

    public init(clusters: Int = 1000, dimension: Int, latentDimension: Int = 32, sigma: Float = 1,
                ambient: Float = 0.2, seed: UInt64) {
        precondition(clusters > 0 && dimension > 0 && latentDimension >= 0 && latentDimension <= dimension,
                     "ClusteredVectors: clusters \(clusters), d \(dimension), latent \(latentDimension)")
        var rng = SeededGenerator(seed: seed)
        self.clusters = clusters
        self.dimension = dimension
        self.latentDimension = latentDimension
        self.sigma = sigma
        self.ambient = ambient
        let m = latentDimension == 0 ? dimension : latentDimension
        var c = (0..<(clusters * m)).map { _ in rng.nextNormal() }
        if latentDimension == 0 { Self.normalizeRows(&c, width: m) }
        centres = c
        // Gram–Schmidt on random rows gives an orthonormal basis of a random subspace.
        var b = (0..<(latentDimension * dimension)).map { _ in rng.nextNormal() }
        for i in 0..<latentDimension {
            for j in 0..<i {
                var dot: Float = 0
                for x in 0..<dimension { dot += b[i * dimension + x] * b[j * dimension + x] }
                for x in 0..<dimension { b[i * dimension + x] -= dot * b[j * dimension + x] }
            }
            var norm: Float = 0
            for x in 0..<dimension { norm += b[i * dimension + x] * b[i * dimension + x] }
            for x in 0..<dimension { b[i * dimension + x] /= norm.squareRoot() }
        }
        basis = b
    }

    static func normalizeRows(_ v: inout [Float], width: Int) {
        v.withUnsafeMutableBufferPointer { p in
            for r in 0..<(p.count / width) {
                let row = p.baseAddress! + r * width
                var s: Float = 0
                for x in 0..<width { s += row[x] * row[x] }
                let inv = s > 0 ? 1 / s.squareRoot() : 0
                for x in 0..<width { row[x] *= inv }
            }
        }
    }

    /// n unit rows (n, d); chunks of 8192 rows use their own seeded streams, drawn on all threads.
    public func draw(_ n: Int, seed: UInt64) -> Tensor {
        let d = dimension, m = latentDimension, chunk = 8192
        var out = [Float](repeating: 0, count: n * d)
        let chunks = (n + chunk - 1) / chunk
        let noiseScale = m == 0 ? sigma / Float(d).squareRoot()
                                : ambient * ((1 + sigma * sigma) * Float(m) / Float(d)).squareRoot()
        out.withUnsafeMutableBufferPointer { o in
            let threads = SearchParameters.defaultThreadCount
            parallelFor(threads) { t in
                var z = [Float](repeating: 0, count: chunk * max(m, 1))
                for c in stride(from: t, to: chunks, by: threads) {
                    var rng = SeededGenerator(seed: seed &+ UInt64(c) &* 0x9E37_79B9)
                    let r0 = c * chunk, rn = min(chunk, n - r0)
                    let dst = o.baseAddress! + r0 * d
                    if m > 0 {
                        for i in 0..<rn {
                            let label = rng.nextIndex(below: clusters)
                            for x in 0..<m { z[i * m + x] = centres[label * m + x] + sigma * rng.nextNormal() }
                        }
                        z.withUnsafeBufferPointer { zp in
                            basis.withUnsafeBufferPointer { bp in
                                gemm(.none, .none, m: rn, n: d, k: m, a: zp.baseAddress!, lda: m,
                                     b: bp.baseAddress!, ldb: d, c: dst, ldc: d)
                            }
                        }
                        for i in 0..<(rn * d) { dst[i] += noiseScale * rng.nextNormal() }
                    } else {
                        for i in 0..<rn {
                            let label = rng.nextIndex(below: clusters)
                            for x in 0..<d { dst[i * d + x] = centres[label * d + x] + noiseScale * rng.nextNormal() }
                        }
                    }
                    for i in 0..<rn {
                        let row = dst + i * d
                        let norm = rk_dot(row, row, d).squareRoot()
                        if norm > 0 { for x in 0..<d { row[x] /= norm } }
                    }
                }
            }
        }
        return Tensor(shape: [n, d], data: out)
    }
}
