// `--data` naming WebDataset tar shards (one .tar, a folder of them, or `{000000..000059}`):
// each rank prepares the pixel caches of its own shards (r, r+N, …), all ranks wait for the
// others, then every rank opens every cache and splits the samples the same way, so the ranks
// train on the same data as one process would. What was skipped is said once, by shard and member.
import Cluster
import Datasets
import Foundation
import Vision

extension DataOptions {
    var namesShards: Bool { ShardList.isShards(data) }

    func loadShards(preprocessing: Preprocessing, world: Communicator = .world) throws -> TrainingData {
        let (shards, missing) = ShardList.expand(data)
        for path in missing.prefix(10) { Console.error("warning: \(path): no such shard, skipped") }
        if missing.count > 10 { Console.error("warning: … and \(missing.count - 10) more shards missing") }
        guard !shards.isEmpty else { throw CommandError("--data \(data): no tar shard found") }
        let directory = cache.map { URL(fileURLWithPath: $0) }
        let mine = shards.indices.filter { $0 % world.size == world.rank }
        let bar = ProgressBar("cache", total: mine.count, unit: "shard")
        var built: [(shard: String, reason: String)] = []
        var failure: (any Error)?
        for (done, i) in mine.enumerated() {
            do {
                if case .built(let reason) = try ShardCache.prepare(shard: shards[i], directory: directory, preprocessing: preprocessing) {
                    built.append((shards[i].lastPathComponent, reason))
                }
            } catch {
                failure = error  // after the barrier, so the other ranks do not wait for this one
                break
            }
            bar.update(done + 1)
        }
        bar.finish("", count: mine.count)
        world.barrier()
        if let failure { throw failure }
        let folder = (directory ?? ShardCache.defaultDirectory(for: shards[0])).path
        if let first = built.first {
            Console.error("pixel cache: decoded \(counted(built.count, "shard")) of \(mine.count) into \(folder) (\(first.shard): \(first.reason))")
        } else {
            Console.error("pixel cache: \(counted(mine.count, "shard")) current in \(folder)")
        }
        let data = try TrainingData.load(shards: shards, cacheDirectory: directory, splitFile: split.map { URL(fileURLWithPath: $0) },
                                         validationFraction: valFraction, preprocessing: preprocessing)
        for warning in data.shardWarnings.prefix(10) { Console.error("warning: \(warning)") }
        if data.shardWarnings.count > 10 { Console.error("warning: … and \(data.shardWarnings.count - 10) more samples skipped") }
        return data
    }
}
