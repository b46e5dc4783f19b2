// Top-k selection for search: a fixed-capacity min-heap of (score, id) per query whose root is
// the worst hit kept, so a scan compares each new score with one number (`threshold`).
// Ties are deterministic: of two equal scores the lower id ranks first.

/// One search result: the row id (its position in add order) and its inner-product score.
public struct SearchHit: Equatable, Hashable, Sendable {
    public var id: Int
    public var score: Float

    public init(id: Int, score: Float) {
        self.id = id
        self.score = score
    }

    /// Recall@k of approximate results: the mean over queries of |found ∩ truth| / k, both cut to k.
    public static func recall(_ found: [[SearchHit]], _ truth: [[SearchHit]], k: Int) -> Double {
        precondition(found.count == truth.count, "recall: \(found.count) results vs \(truth.count) truths")
        guard !found.isEmpty, k > 0 else { return 0 }
        var hits = 0
        for (f, t) in zip(found, truth) {
            let ids = Set(t.prefix(k).map(\.id))
            hits += f.prefix(k).filter { ids.contains($0.id) }.count
        }
        return Double(hits) / Double(found.count * k)
    }
}

/// The k best (score, id) pairs seen so far. Pushes cost O(log k) and are rare once the heap
/// is full, because scans skip every score below `threshold`.
public struct TopKHeap: Sendable {
    public let capacity: Int
    @usableFromInline var scores: [Float]
    @usableFromInline var ids: [Int]
    @usableFromInline var count = 0
    /// How many hits are kept (≤ capacity).
    public var size: Int { count }

    public init(capacity: Int) {
        precondition(capacity >= 0, "TopKHeap capacity must be ≥ 0, got \(capacity)")
        self.capacity = capacity
        scores = [Float](repeating: -.infinity, count: capacity)
        ids = [Int](repeating: .max, count: capacity)
    }

    /// The score a newcomer must reach to enter: -inf until full, then the worst kept score.
    /// A score equal to it enters only with a lower id than the root's.
    @inlinable
    public var threshold: Float {
        count < capacity ? -.infinity : (capacity == 0 ? .infinity : scores[0])
    }

    /// True when (a, ia) ranks below (b, ib): lower score, or equal score and higher id.
    @inlinable @inline(__always)
    static func worse(_ a: Float, _ ia: Int, than b: Float, _ ib: Int) -> Bool {
        a < b || (a == b && ia > ib)
    }

    /// Offers one candidate; keeps it if it beats the worst kept hit.
    @inlinable
    public mutating func push(score: Float, id: Int) {
        if count < capacity {
            var i = count
            count += 1
            // Sift up: the root holds the worst.
            while i > 0 {
                let parent = (i - 1) >> 1
                if Self.worse(score, id, than: scores[parent], ids[parent]) {
                    scores[i] = scores[parent]; ids[i] = ids[parent]
                    i = parent
                } else { break }
            }
            scores[i] = score; ids[i] = id
            return
        }
        guard capacity > 0, Self.worse(scores[0], ids[0], than: score, id) else { return }
        siftDownFromRoot(score: score, id: id)
    }

    @usableFromInline
    mutating func siftDownFromRoot(score: Float, id: Int) {
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= count { break }
            var c = l
            let r = l + 1
            if r < count && Self.worse(scores[r], ids[r], than: scores[l], ids[l]) { c = r }
            if Self.worse(scores[c], ids[c], than: score, id) {
                scores[i] = scores[c]; ids[i] = ids[c]
                i = c
            } else { break }
        }
        scores[i] = score; ids[i] = id
    }

    /// Pushes every hit of another heap (merging per-thread heaps).
    public mutating func merge(_ other: TopKHeap) {
        for i in 0..<other.count { push(score: other.scores[i], id: other.ids[i]) }
    }

    /// Per-thread heaps of the same queries (`perThread[t][query]`) merged into one per query.
    static func merged(_ perThread: [[TopKHeap]]) -> [TopKHeap] {
        var merged = perThread[0]
        for heaps in perThread.dropFirst() {
            for i in merged.indices { merged[i].merge(heaps[i]) }
        }
        return merged
    }

    /// The kept hits, best first (ties: lower id first).
    public func sorted() -> [SearchHit] {
        var hits = (0..<count).map { SearchHit(id: ids[$0], score: scores[$0]) }
        hits.sort { Self.worse($1.score, $1.id, than: $0.score, $0.id) }
        return hits
    }

    /// Empties the heap, keeping its capacity.
    public mutating func removeAll() {
        count = 0
    }
}

/// Scans `count` scores starting at `scores`, with ids `firstID + j`, into `heap`; only
/// scores reaching the running threshold are pushed (`push` settles ties by id).
@inlinable
func scanScores(_ scores: UnsafePointer<Float>, count: Int, firstID: Int, into heap: inout TopKHeap) {
    var threshold = heap.threshold
    var j = 0
    var tv = SIMD8<Float>(repeating: threshold)
    let raw = UnsafeRawPointer(scores)
    while j + 8 <= count {
        let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        if any(v .>= tv) {
            for u in 0..<8 where scores[j + u] >= threshold {
                heap.push(score: scores[j + u], id: firstID + j + u)
                threshold = heap.threshold
            }
            tv = SIMD8<Float>(repeating: threshold)
        }
        j += 8
    }
    while j < count {
        if scores[j] >= threshold {
            heap.push(score: scores[j], id: firstID + j)
            threshold = heap.threshold
        }
        j += 1
    }
}

/// As `scanScores(_:count:firstID:into:)`, with the id of score j read from `ids[j]`.
@inlinable
func scanScores(_ scores: UnsafePointer<Float>, count: Int, ids: UnsafePointer<Int64>, into heap: inout TopKHeap) {
    var threshold = heap.threshold
    var tv = SIMD8<Float>(repeating: threshold)
    let raw = UnsafeRawPointer(scores)
    var j = 0
    while j + 8 <= count {
        let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        if any(v .>= tv) {
            for u in 0..<8 where scores[j + u] >= threshold {
                heap.push(score: scores[j + u], id: Int(ids[j + u]))
                threshold = heap.threshold
            }
            tv = SIMD8<Float>(repeating: threshold)
        }
        j += 8
    }
    while j < count {
        if scores[j] >= threshold {
            heap.push(score: scores[j], id: Int(ids[j]))
            threshold = heap.threshold
        }
        j += 1
    }
}
