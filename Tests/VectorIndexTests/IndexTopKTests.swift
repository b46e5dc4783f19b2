// TopKHeap: keeps the k best of a stream, best first, equal scores by lower id, merges exactly.
import Testing
import Neural
@testable import VectorIndex

struct IndexTopKTests {
    @Test(arguments: [0, 1, 3, 10, 64])
    func keepsTheBestOfAStreamInOrder(k: Int) {
        var rng = SeededGenerator(seed: UInt64(k))
        // Few distinct values, so many ties.
        let scores = (0..<500).map { _ in Float(rng.nextIndex(below: 20)) }
        var heap = TopKHeap(capacity: k)
        var halves = (TopKHeap(capacity: k), TopKHeap(capacity: k))
        for (i, s) in scores.enumerated() {
            heap.push(score: s, id: i)
            if i % 2 == 0 { halves.0.push(score: s, id: i) } else { halves.1.push(score: s, id: i) }
        }
        let expected = scores.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(k).map { SearchHit(id: $0.offset, score: $0.element) }
        #expect(heap.sorted() == Array(expected))
        halves.0.merge(halves.1)
        #expect(halves.0.sorted() == Array(expected))
    }

    @Test func fewerCandidatesThanCapacityReturnsThemAll() {
        var heap = TopKHeap(capacity: 5)
        heap.push(score: 0.5, id: 9)
        heap.push(score: -.infinity, id: 2)
        #expect(heap.sorted() == [SearchHit(id: 9, score: 0.5), SearchHit(id: 2, score: -.infinity)])
    }
}
