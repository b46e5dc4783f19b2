// Parses and checks the JSON header of a safetensors file: every entry well formed, dtypes
// known, shapes matching byte spans, and the spans tiling the data section from 0 to its
// end with no gap or overlap — the same rules the Python library enforces.
import Foundation

/// One tensor's header entry.
struct SafetensorsEntry {
    let name: String
    let dtype: SafetensorsDType
    let shape: [Int]
    let begin: Int
    let end: Int
}

enum SafetensorsHeader {
    /// Tensor entries sorted by their first byte, and the metadata.
    static func parse(_ json: Data, path: String) throws -> (tensors: [SafetensorsEntry], metadata: [String: String]) {
        func bad(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, .badHeader(reason)) }
        guard json.first == UInt8(ascii: "{") else { throw bad("does not start with '{'") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw bad("not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw bad("not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        for (name, value) in dictionary {
            if name == "__metadata__" {
                guard let strings = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (key, v) in strings {
                    guard let s = v as? String else { throw bad("__metadata__ value for '\(key)' is not a string") }
                    metadata[key] = s
                }
                continue
            }
            guard let fields = value as? [String: Any] else { throw bad("entry '\(name)' is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw bad("entry '\(name)' has no dtype string") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw SafetensorsError(path: path, .unsupportedDType(tensor: name, dtype: dtypeName))
            }
            guard let shape = integers(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("entry '\(name)' has no shape of non-negative integers")
            }
            guard let offsets = integers(fields["data_offsets"]), offsets.count == 2, offsets[0] >= 0 else {
                throw bad("entry '\(name)' has no data_offsets [begin, end]")
            }
            entries.append(SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        return (entries, metadata)
    }

    /// Checks each span against its shape and dtype, and that the spans tile [0, dataSize).
    static func checkLayout(_ entries: [SafetensorsEntry], dataSize: Int, path: String) throws {
        func fail(_ problem: SafetensorsError.Problem) -> SafetensorsError { SafetensorsError(path: path, problem) }
        for e in entries {
            guard e.begin <= e.end else {
                throw fail(.offsetsOutOfRange(tensor: e.name, begin: e.begin, end: e.end, dataSize: dataSize))
            }
            var bytes = e.dtype.size, overflow = false
            for d in e.shape where !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: d) }
            guard !overflow, bytes == e.end - e.begin else {
                throw fail(.sizeMismatch(tensor: e.name, shape: e.shape, dtype: e.dtype.rawValue, bytes: e.end - e.begin))
            }
        }
        var cursor = 0
        var previous: String?
        for e in entries {
            if e.begin < cursor, let previous { throw fail(.overlapping(previous, e.name)) }
            if e.begin > cursor {
                if e.begin >= dataSize {
                    throw fail(.offsetsOutOfRange(tensor: e.name, begin: e.begin, end: e.end, dataSize: dataSize))
                }
                throw fail(.gap(before: e.name, bytes: e.begin - cursor))
            }
            cursor = e.end
            previous = e.name
        }
        if cursor > dataSize { throw fail(.truncated(expectedBytes: cursor, actualBytes: dataSize)) }
        if cursor < dataSize { throw fail(.trailingBytes(dataSize - cursor)) }
    }

    /// A JSON array of whole numbers as [Int]; nil for anything else (fractions, strings).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for element in array {
            guard let n = element as? Int else { return nil }
            out.append(n)
        }
        return out
    }
}
