// A graph index made from stored parts (an index file's mapped sections) and taken apart again:
// the parts are checked before any search follows a link, so a file whose checksums pass but
// whose links point outside the graph is refused rather than read out of bounds.
import Foundation
import Neural

/// What is wrong with a set of graph parts.
public struct GraphPartsError: Error, CustomStringConvertible {
    public let description: String
}

extension GraphIndex {
    /// A graph over `rows` (n × dimension, id order) with its layer-0 lists (`links0`, n × (2M+1)),
    /// upper lists (`upper`) starting at `upperOffset[i]` for nodes above layer 0 (−1 otherwise),
    /// each node's top layer and the entry point, and for a quantised graph its quantiser and
    /// the rows' codes (n × dimension). Every count, id and offset is checked.
    public convenience init(dimension: Int, neighbors: Int, efConstruction: Int, seed: UInt64,
                            rows: RowStorage<Float>, levels: [UInt8], links0: RowStorage<Int32>,
                            upper: RowStorage<Int32>, upperOffset: [Int64], entryPoint: Int32,
                            quantizer: ScalarQuantizer? = nil, codes: RowStorage<UInt8> = RowStorage()) throws {
        guard dimension > 0, (2...127).contains(neighbors), efConstruction >= neighbors else {
            throw GraphPartsError(description: "graph parameters (d \(dimension), M \(neighbors), efConstruction \(efConstruction))")
        }
        self.init(dimension: dimension, neighbors: neighbors, efConstruction: efConstruction, seed: seed,
                  quantized: quantizer != nil)
        let n = levels.count
        guard codes.count == (quantizer == nil ? 0 : n * dimension), quantizer.map({ $0.dimension == dimension }) ?? true else {
            throw GraphPartsError(description: "graph codes (\(codes.count) for \(n) rows of \(dimension))")
        }
        guard rows.count == n * dimension, upperOffset.count == n, links0.count == n * stride0 else {
            throw GraphPartsError(description: "graph sizes (\(n) nodes, \(rows.count / dimension) rows, \(links0.count) layer-0 links)")
        }
        guard n == 0 ? entryPoint == -1 : (0..<Int32(n)).contains(entryPoint) else {
            throw GraphPartsError(description: "graph entry point \(entryPoint) of \(n) nodes")
        }
        // Upper lists: laid out node after node, each `level × strideUp` long, nothing left over.
        var expected: Int64 = 0
        for i in 0..<n {
            let level = Int64(levels[i])
            guard level <= 30 else { throw GraphPartsError(description: "graph node \(i) on layer \(level)") }
            if level == 0 {
                guard upperOffset[i] == -1 else { throw GraphPartsError(description: "graph upper offset of node \(i)") }
            } else {
                guard upperOffset[i] == expected else { throw GraphPartsError(description: "graph upper offset of node \(i)") }
                expected += level * Int64(strideUp)
            }
        }
        guard expected == upper.count else { throw GraphPartsError(description: "graph upper lists (\(upper.count) links, \(expected) expected)") }
        if n > 0, levels.contains(where: { $0 > levels[Int(entryPoint)] }) {
            throw GraphPartsError(description: "graph entry point \(entryPoint) is not on the top layer")
        }
        let badLayer0 = links0.withUnsafeBufferPointer { Self.firstBadList($0, width: stride0, capacity: 2 * neighbors, nodes: n) }
        if let node = badLayer0 { throw GraphPartsError(description: "graph layer-0 list of node \(node)") }
        let badUpper = upper.withUnsafeBufferPointer { Self.firstBadList($0, width: strideUp, capacity: neighbors, nodes: n) }
        if let list = badUpper { throw GraphPartsError(description: "graph upper list \(list)") }
        self.rows = rows
        self.levels = levels
        self.links0 = links0
        self.upper = upper
        self.upperOffset = upperOffset
        self.entryPoint = entryPoint
        self.quantizer = quantizer
        self.codes = codes
    }

    /// The first list of `width` Int32 (a count, then ids) whose count exceeds `capacity` or
    /// whose ids fall outside 0..<nodes; nil when all are sound.
    static func firstBadList(_ lists: UnsafeBufferPointer<Int32>, width: Int, capacity: Int, nodes: Int) -> Int? {
        guard let base = lists.baseAddress else { return nil }
        let limit = UInt32(truncatingIfNeeded: nodes)
        for list in 0..<(lists.count / width) {
            let l = base + list * width
            let count = Int(l[0])
            guard count >= 0, count <= capacity else { return list }
            for j in stride(from: 1, through: count, by: 1) where UInt32(bitPattern: l[j]) >= limit { return list }
        }
        return nil
    }

    /// A graph sharing this one's parts (copy on write), to grow without changing this one.
    public func copy() -> GraphIndex {
        let other = GraphIndex(dimension: dimension, neighbors: neighbors, efConstruction: efConstruction, seed: seed,
                               quantized: isQuantized)
        other.efSearch = efSearch
        other.parameters = parameters
        (other.rows, other.levels, other.links0) = (rows, levels, links0)
        (other.quantizer, other.codes) = (quantizer, codes)
        (other.upper, other.upperOffset, other.entryPoint) = (upper, upperOffset, entryPoint)
        return other
    }

    /// The same rows searched exactly, for `--exact` and for checking recall.
    public var exactIndex: FlatIndex {
        var flat = FlatIndex(dimension: dimension, rows: rows)
        flat.parameters = parameters
        return flat
    }
}
