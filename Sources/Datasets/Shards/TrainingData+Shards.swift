// Training data from WebDataset tar shards whose pixel caches are prepared (ShardCache): every
// sample's captions come from the caches' tables, its pixels stay on disk until a batch reads
// them. The split is the user's split file (paths `SHARD.tar/KEY`) or a hash of that path, so it
// does not depend on where the shards sit or in what order they are listed.
import Foundation
import Vision

extension TrainingData {
    /// The samples of `shards`, split; their caches must have been prepared for `preprocessing`.
    public static func load(shards: [URL], cacheDirectory: URL?, splitFile: URL? = nil, validationFraction: Double = 0.1,
                            preprocessing: Preprocessing) throws -> TrainingData {
        let set = try ShardCache.open(shards, directory: cacheDirectory, preprocessing: preprocessing)
        var items: [CaptionedImage] = [], file: [Int32] = [], rows: [Int32] = []
        for (f, (cache, shard)) in zip(set.files, shards).enumerated() {
            for row in 0..<cache.count {
                let path = shard.lastPathComponent + "/" + cache.keys[row]
                // The url is the shard's, shared by its samples: one URL object per sample would be
                // most of the memory a sample costs.
                items.append(CaptionedImage(path: path, url: shard, captions: cache.captions[row]))
                file.append(Int32(f))
                rows.append(Int32(row))
            }
        }
        let assignments = try splitFile.map { try SplitFile.read(from: $0).assignments }
        let rule = HashSplit(valFraction: validationFraction)
        var parts: [DataSplit: [Int]] = [:]
        for (i, item) in items.enumerated() {
            let part = assignments.map { $0[item.path] } ?? rule.split(of: item.path)
            if let part { parts[part, default: []].append(i) }
        }
        func store(_ part: DataSplit) -> ImageStore {
            let picked = parts[part] ?? []
            return ImageStore(side: preprocessing.side,
                              pictures: StoredPictures(.cached(set, file: picked.map { file[$0] }, rows: picked.map { rows[$0] })),
                              items: picked.map { items[$0] })
        }
        let source = splitFile?.path ?? "hash split, \(Int((validationFraction * 100).rounded()))% validation"
        var data = TrainingData(dataset: CaptionDataset(images: items, warnings: [], source: shards.first ?? URL(fileURLWithPath: "."),
                                                        format: .webDataset),
                                train: store(.train), validation: store(.val), test: store(.test), splitSource: source, missing: [])
        data.shardWarnings = set.files.flatMap(\.warnings)
        return data
    }
}
