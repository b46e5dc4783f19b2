// What the tool does differently as one rank of an `mpirun` job: each rank takes its share of
// the machine's cores, the ranks other than the leader print nothing (their output would repeat
// the leader's), a batch must give every rank a row, and the leader reports what was exchanged.
import Cluster
import Foundation
import Neural
import Retrieval

enum Distributed {
    /// Sets up this process as a rank of `world`; does nothing for a single process.
    static func start(_ world: Communicator) {
        guard world.isDistributed else { return }
        Threads.count = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, world.localSize))
        if !world.isLeader {
            Console.isQuiet = true
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
        }
    }

    /// Refuses batches that would leave a rank without a pair (a tower cannot forward nothing).
    static func check(_ trainer: Trainer, _ world: Communicator) throws {
        guard world.isDistributed else { return }
        let batch = trainer.options.batchSize, last = trainer.train.count % batch
        guard batch >= world.size else {
            throw CommandError("--batch \(batch) is smaller than the \(world.size) ranks of the job (each rank needs a pair of every batch: pass --batch \(world.size) or more)", status: .usage)
        }
        if last >= 2 && last < world.size {
            throw CommandError("the last batch of each epoch holds \(last) pairs (\(trainer.train.count) pictures, --batch \(batch)), fewer than the \(world.size) ranks (pick a --batch that divides \(trainer.train.count) or leaves \(world.size) or more)", status: .usage)
        }
    }

    static func planLine(_ trainer: Trainer, _ world: Communicator) -> String {
        let batch = trainer.options.batchSize
        let synchronised = trainer.model.configuration.normalization == .batch ? " (batch norm synchronised over the ranks)" : ""
        return "distributed: \(world.size) ranks × \(Threads.count) \(Threads.count == 1 ? "thread" : "threads"); each prepares and forwards about \(batch / world.size) of every \(batch) pairs and sees the loss of all of them\(synchronised)"
    }

    /// What the leader sent per step and how long the collectives took (waiting for the other
    /// ranks included).
    static func exchangeLine(_ world: Communicator, steps: Int) -> String {
        let steps = max(1, steps)
        let bytes = Double(world.bytesSent) / Double(steps)
        let milliseconds = world.secondsInCollectives * 1000 / Double(steps)
        return String(format: "distributed: %.2f MB sent per step by each rank, %.1f ms per step in collectives (%d steps)",
                      bytes / 1e6, milliseconds, steps)
    }
}
