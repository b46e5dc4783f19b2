// Training data from WebDataset tar shards whose pixel caches are prepared (ShardCache): every
// sample's pixels and captions stay in the caches on disk until a batch reads them. The split
// is the user's split file (paths `SHARD.tar/KEY`) or a hash of that path, so it does not
// depend on where the shards sit or in what order they are listed.
import Foundation
import Vision

extension TrainingData {
    /// The samples of `shards`, split; their caches must have been prepared for `preprocessing`.
    public static func load(shards: [URL], cacheDirectory: URL?, splitFile: URL? = nil, validationFraction: Double = 0.1,
                            preprocessing: Preprocessing) throws -> TrainingData {
        let set = try ShardCache.open(shards, directory: cacheDirectory, preprocessing: preprocessing)
        let assignments = try splitFile.map { try SplitFile.read(from: $0).assignments }
        let rule = HashSplit(valFraction: validationFraction)
        // Only each sample's place is kept (8 bytes); its key is read to split it, then dropped.
        var parts: [DataSplit: (file: [Int32], rows: [Int32])] = [:]
        for (f, cache) in set.files.enumerated() {
            let shard = cache.shard.lastPathComponent + "/"
            for row in 0..<cache.count {
                let path = shard + cache.sample(at: row).key
                guard let part = assignments.map({ $0[path] }) ?? rule.split(of: path) else { continue }
                parts[part, default: ([], [])].file.append(Int32(f))
                parts[part, default: ([], [])].rows.append(Int32(row))
            }
        }
        func store(_ part: DataSplit) -> ImageStore {
            let rows = CachedRows(set: set, file: parts[part]?.file ?? [], rows: parts[part]?.rows ?? [])
            return ImageStore(side: preprocessing.side, pictures: StoredPictures(.cached(rows)), items: CaptionedItems(.cached(rows)))
        }
        let source = splitFile?.path ?? "hash split, \(Int((validationFraction * 100).rounded()))% validation"
        // The samples are the stores'; the dataset keeps only what the caches left out.
        var data = TrainingData(dataset: CaptionDataset(images: [], warnings: [], source: shards.first ?? URL(fileURLWithPath: "."),
                                                        format: .webDataset),
                                train: store(.train), validation: store(.val), test: store(.test), splitSource: source, missing: [])
        data.shardWarnings = set.files.flatMap(\.warnings)
        return data
    }
}
