// The world of one MPI job. Started under mpirun (OpenMPI sets OMPI_COMM_WORLD_SIZE, PMIx sets
// PMIX_RANK), `Communicator.world` initialises MPI once and every collective goes to the other
// ranks; started any other way it is a single process and each collective returns its input,
// with no MPI call, no start-up cost and no message. Errors inside MPI abort the whole job
// (OpenMPI's default handler), so a rank that fails never leaves the others waiting.
import CMPI
import Foundation

public final class Communicator: @unchecked Sendable {
    /// This process's place in the job, 0 ..< size.
    public let rank: Int
    /// Processes in the job; 1 when not started by mpirun.
    public let size: Int
    /// Processes of the job on this machine (for the thread count).
    public let localSize: Int

    public var isDistributed: Bool { size > 1 }
    /// Rank 0 writes the files and the log; the others stay silent.
    public var isLeader: Bool { rank == 0 }

    private let usesMPI: Bool
    /// Bytes this process handed to collectives so far (what it sent, not what it received).
    public private(set) var bytesSent = 0
    /// Wall-clock seconds this process spent inside collectives so far (waiting included).
    public private(set) var secondsInCollectives = 0.0

    nonisolated(unsafe) private static var started: Communicator?

    /// The job this process belongs to, started on first use.
    public static var world: Communicator {
        if let started { return started }
        let world = Communicator(environment: ProcessInfo.processInfo.environment)
        started = world
        return world
    }

    /// True once `world` was asked for and runs MPI (so exits must finalize or abort).
    public static var isRunningMPI: Bool { started?.usesMPI == true }

    /// Whether `environment` is that of a process started by mpirun.
    public static func isLaunchedByMPI(_ environment: [String: String]) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    private init(environment: [String: String]) {
        guard Self.isLaunchedByMPI(environment) else {
            (rank, size, localSize, usesMPI) = (0, 1, 1, false)
            return
        }
        let status = cmpi_init()
        precondition(status == 0, "MPI_Init_thread failed with \(status)")
        (rank, size, usesMPI) = (Int(cmpi_rank()), Int(cmpi_size()), true)
        localSize = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    /// Ends MPI after a job that went well; every rank must call it.
    public func finalize() {
        if usesMPI { _ = cmpi_finalize() }
    }

    /// Stops every rank of the job with `code` (a failure on one rank must not hang the rest).
    public func abort(code: Int32) -> Never {
        if usesMPI { cmpi_abort(code) }
        exit(code)
    }

    public func barrier() {
        if usesMPI { check(cmpi_barrier(), "MPI_Barrier") }
    }

    /// Replaces `values` on every rank by their element-wise sum over the ranks.
    public func allReduceSum(_ values: inout [Float]) {
        guard usesMPI, !values.isEmpty else { return }
        bytesSent += values.count * MemoryLayout<Float>.size
        timed { values.withUnsafeMutableBufferPointer { check(cmpi_allreduce_sum_float($0.baseAddress, Int32($0.count)), "MPI_Allreduce") } }
    }

    /// The sums over the ranks of `values`, in double precision (counters, statistics).
    public func allReduceSum(_ values: [Double]) -> [Double] {
        guard usesMPI, !values.isEmpty else { return values }
        var values = values
        bytesSent += values.count * MemoryLayout<Double>.size
        timed { values.withUnsafeMutableBufferPointer { check(cmpi_allreduce_sum_double($0.baseAddress, Int32($0.count)), "MPI_Allreduce") } }
        return values
    }

    /// This rank's part of the element-wise sum over the ranks of `values`, which every rank
    /// lays out as the ranks' parts in rank order, `counts[r]` values for rank r: what an
    /// all-reduce gives, at about half its traffic, where each rank needs only its own part.
    public func reduceScatterSum(_ values: [Float], counts: [Int]) -> [Float] {
        precondition(counts.count == size && counts.reduce(0, +) == values.count,
                     "\(values.count) values in parts \(counts) over \(size) ranks")
        guard usesMPI else { return values }
        var mine = [Float](repeating: 0, count: counts[rank])
        let counts32 = counts.map { Int32($0) }
        bytesSent += values.count * MemoryLayout<Float>.size
        timed {
            values.withUnsafeBufferPointer { all in
                mine.withUnsafeMutableBufferPointer { out in
                    check(cmpi_reduce_scatter_sum_float(all.baseAddress, out.baseAddress, counts32), "MPI_Reduce_scatter")
                }
            }
        }
        return mine
    }

    /// Starts the element-wise sum over the ranks of `values` and returns at once, so this rank
    /// can compute while the sum travels (the gradients of layers backward has finished, while it
    /// works on the next). Every rank must start the same sums in the same order, as for any
    /// collective; `PendingSum.wait` gives the result.
    public func startSum(_ values: [Float]) -> PendingSum {
        let pending = PendingSum(values, communicator: self)
        guard usesMPI, !values.isEmpty else { return pending }
        bytesSent += values.count * MemoryLayout<Float>.size
        timed {
            check(cmpi_iallreduce_sum_float(pending.values.baseAddress, Int32(values.count), pending.request), "MPI_Iallreduce")
        }
        pending.isStarted = true
        return pending
    }

    /// True on every rank when `flag` is true on any rank.
    public func any(_ flag: Bool) -> Bool {
        allReduceSum([flag ? 1 : 0])[0] > 0
    }

    /// Every rank's `local` buffer, concatenated in rank order; the ranks may hand in different
    /// lengths. The second value is each rank's count.
    public func allGather(_ local: [Float]) -> (values: [Float], counts: [Int]) {
        allGatherVarying(local) { check(cmpi_allgatherv_float($0, $1, $2, $3, $4), "MPI_Allgatherv") }
    }

    /// Every rank's `local` integers (row numbers, say), concatenated in rank order, with each
    /// rank's count; the ranks may hand in different lengths.
    public func allGather(_ local: [Int32]) -> (values: [Int32], counts: [Int]) {
        allGatherVarying(local) { check(cmpi_allgatherv_int($0, $1, $2, $3, $4), "MPI_Allgatherv") }
    }

    /// Gathers the lengths, then the buffers with `gatherv(local, count, all, counts, offsets)`.
    private func allGatherVarying<Element: Numeric>(
        _ local: [Element],
        _ gatherv: (UnsafePointer<Element>?, Int32, UnsafeMutablePointer<Element>?, UnsafePointer<Int32>, UnsafePointer<Int32>) -> Void
    ) -> (values: [Element], counts: [Int]) {
        guard usesMPI else { return (local, [local.count]) }
        var counts = [Int32](repeating: 0, count: size)
        timed { check(cmpi_allgather_int(Int32(local.count), &counts), "MPI_Allgather") }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(1, size) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var all = [Element](repeating: 0, count: Int(counts.reduce(0, +)))
        bytesSent += local.count * MemoryLayout<Element>.size
        timed {
            local.withUnsafeBufferPointer { mine in
                all.withUnsafeMutableBufferPointer { out in
                    gatherv(mine.baseAddress, Int32(mine.count), out.baseAddress, counts, offsets)
                }
            }
        }
        return (all, counts.map(Int.init))
    }

    /// Every rank's `local` values, all of one length, concatenated in rank order (per-channel
    /// statistics: the same figures, in the same order, on every rank).
    public func allGather(_ local: [Double]) -> [Double] {
        guard usesMPI else { return local }
        var all = [Double](repeating: 0, count: local.count * size)
        bytesSent += local.count * MemoryLayout<Double>.size
        timed {
            local.withUnsafeBufferPointer { mine in
                all.withUnsafeMutableBufferPointer { out in
                    check(cmpi_allgather_double(mine.baseAddress, Int32(mine.count), out.baseAddress), "MPI_Allgather")
                }
            }
        }
        return all
    }

    /// Every rank's bytes, in rank order; the ranks may hand in different lengths (the results
    /// of a distributed search, serialised).
    public func allGather(bytes local: [UInt8]) -> [[UInt8]] {
        let (all, counts) = allGatherVarying(local) { check(cmpi_allgatherv_bytes($0, $1, $2, $3, $4), "MPI_Allgatherv") }
        var start = 0
        return counts.map { count in
            defer { start += count }
            return Array(all[start..<(start + count)])
        }
    }

    /// Rank `root`'s bytes on every rank; the others' `bytes` are replaced, whatever their length.
    public func broadcast(_ bytes: inout [UInt8], from root: Int = 0) {
        guard usesMPI else { return }
        var length = [Int64(bytes.count)]
        length.withUnsafeMutableBytes { check(cmpi_broadcast_bytes($0.baseAddress, Int32($0.count), Int32(root)), "MPI_Bcast") }
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) } else { bytesSent += bytes.count }
        bytes.withUnsafeMutableBytes { check(cmpi_broadcast_bytes($0.baseAddress, Int32($0.count), Int32(root)), "MPI_Bcast") }
    }

    /// The rows `0 ..< count` that rank `rank` owns when `count` rows are split as evenly as
    /// possible over `size` ranks, the first ranks taking one more.
    public static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// This rank's share of `count` rows.
    public func share(of count: Int) -> Range<Int> { Self.share(of: count, rank: rank, size: size) }

    fileprivate func timed(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        secondsInCollectives += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    fileprivate func check(_ status: Int32, _ call: String) {
        // MPI's default handler aborts the job before returning an error; this catches the rest.
        if status != 0 {
            FileHandle.standardError.write(Data("error: rank \(rank): \(call) failed with \(status)\n".utf8))
            abort(code: 1)
        }
    }
}

/// A sum over the ranks under way (`Communicator.startSum`). MPI moves it along only inside its
/// own calls, so a rank that computes between steps of the sum calls `poll` now and then (between
/// layers, say); `wait` blocks until it is done. Its time inside MPI counts as the communicator's
/// time in collectives, so what overlap hides no longer shows there.
public final class PendingSum: @unchecked Sendable {
    fileprivate let values: UnsafeMutableBufferPointer<Float>
    fileprivate let request: UnsafeMutableRawPointer
    fileprivate var isStarted = false
    private let communicator: Communicator

    fileprivate init(_ values: [Float], communicator: Communicator) {
        self.values = .allocate(capacity: values.count)
        _ = self.values.initialize(from: values)
        request = .allocate(byteCount: cmpi_request_size(), alignment: 16)
        self.communicator = communicator
    }

    deinit {
        if isStarted { wait() }
        values.deallocate()
        request.deallocate()
    }

    /// Lets MPI take the sum a step further without waiting; true once it is done.
    @discardableResult
    public func poll() -> Bool {
        guard isStarted else { return true }
        var done: Int32 = 0
        communicator.timed { communicator.check(cmpi_test(request, &done), "MPI_Test") }
        if done != 0 { isStarted = false }
        return done != 0
    }

    /// The sums, once every rank's values have arrived; valid while this object lives.
    @discardableResult
    public func wait() -> UnsafeBufferPointer<Float> {
        if isStarted {
            communicator.timed { communicator.check(cmpi_wait(request), "MPI_Wait") }
            isStarted = false
        }
        return UnsafeBufferPointer(values)
    }
}
