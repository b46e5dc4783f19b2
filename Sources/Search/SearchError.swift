// Why indexing or searching could not go on: each case prints as one line that names the file
// or words involved and says what to do. The CLI maps them to exit codes.
import Foundation

/// Failures of ImageIndexer and ImageSearch that are the user's data, not a bug.
public enum SearchError: Error, Equatable, CustomStringConvertible {
    /// The folder to index does not exist or is a file.
    case notAFolder(String)
    /// A `.tar` or brace range to index names no shard that exists.
    case noShards(String)
    /// No `.retrieve/index.rtrv` in the folder given or any folder above it.
    case noIndexFound(searchedFrom: String)
    /// No model was given and there is no earlier index recording one.
    case modelRequired(folder: String)
    /// The model file's fingerprint is not the one the index was built with.
    case modelMismatch(index: String, model: String, expected: String, found: String)
    /// The model the index records is gone.
    case modelMissing(index: String, model: String)
    /// Every word of the query is unknown to the model (or there are no words at all).
    case onlyUnknownWords(query: String, words: [String])
    /// The words of the query the model knows are only words like "a" or "of".
    case onlyFunctionWords(query: String, known: [String], unknown: [String])
    /// The model embeds into another dimension than the index holds.
    case dimensionMismatch(index: String, indexDimension: Int, modelDimension: Int)
    /// A shard of a sharded index was made by another model than its manifest (or the other shards) records.
    case shardModelMismatch(shard: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .notAFolder(let path):
            return "\(path): not a folder (give the folder of pictures to index)"
        case .noShards(let argument):
            return "\(argument): no such tar shard (give a .tar file, a folder of them, or a range like 'shards/{000000..000009}.tar')"
        case .noIndexFound(let start):
            return "\(start): no index here or in any folder above (looked for \(IndexLocation.folderName)/\(IndexLocation.fileName); run retrieve index DIR first, or pass --index FILE)"
        case .modelRequired(let folder):
            return "\(folder): no index yet, so retrieve does not know which model to use (pass --model MODEL; later runs reuse the recorded model)"
        case .modelMismatch(let index, let model, let expected, let found):
            return "\(model): fingerprint \(found) is not that of the model \(index) was built with, \(expected) (re-run retrieve index with this model, or pass the original model)"
        case .modelMissing(let index, let model):
            return "\(index): built with \(model), which no longer exists (pass --model MODEL and re-run retrieve index)"
        case .onlyUnknownWords(let query, let words):
            return words.isEmpty
                ? "query \"\(query)\": no words to search for (give words from the model's training captions)"
                : "query \"\(query)\": the model knows none of its words, \(words.joined(separator: ", ")) (use words from its training captions)"
        case .onlyFunctionWords(let query, let known, let unknown):
            return "query \"\(query)\": the model knows only \(known.map { "\"\($0)\"" }.joined(separator: ", "))"
                + (unknown.isEmpty ? "" : ", not \(unknown.joined(separator: ", "))")
                + ", which describes no picture (use words from its training captions)"
        case .dimensionMismatch(let index, let d, let m):
            return "\(index): holds \(d)-dimensional rows but the model embeds into \(m) dimensions (re-run retrieve index with this model)"
        case .shardModelMismatch(let shard, let expected, let found):
            return "\(shard): made by the model with fingerprint \(found), not \(expected) as the rest of the sharded index (re-run retrieve index DIR --shards N with one model)"
        }
    }
}
