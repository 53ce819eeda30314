import Foundation

/// Where the writer stands between two blocks: the active segment as it will be once the blocks before are written,
/// and the next record's sequence number. A failed write leaves the archive at the position of its block.
struct WriterPosition {
    var active: SegmentInfo
    var nextSequence: UInt64
}

/// A block the writer thread encoded, to be written at `offset` of `file`.
struct PendingBlock {
    let file: SegmentFile
    let offset: Int64
    let header: [UInt8]
    let body: [UInt8]
    /// The writer's position just before this block.
    let before: WriterPosition
}

/// Writes the writer thread's blocks and acknowledges their groups in order, each once its blocks are written and,
/// when the group asks for it, durable.
///
/// The writer thread hands a group over right after inserting its index rows; this thread writes the blocks of
/// every group waiting at that moment, runs one `fdatasync` per file for all of them (group commit) and then calls
/// their completions, while the writer thread already builds the next group. The writer commits index rows only
/// after their blocks are written (`waitWritten`).
///
/// A failed write fails its group and every group after it, until the writer has cut the segment back to the
/// failed block's position and cleared the failure (`clearFailure`).
final class GroupSyncer: ConditionThread, @unchecked Sendable {
    typealias Completion = @Sendable (Result<AppendResult, ArchiveError>) -> Void

    private struct Job {
        var blocks: [PendingBlock]
        /// fsync the blocks' files before acknowledging.
        var sync: Bool
        var completions: [Completion]
        var results: [Result<AppendResult, ArchiveError>]
        var bytes: Int { blocks.reduce(0) { $0 + $1.header.count + $1.body.count } }
    }

    /// Encoded bytes allowed to wait for their write; the writer thread waits beyond it.
    private let maxQueuedBytes: Int
    private var jobs: [Job] = []
    private var queuedBytes = 0
    /// True while a taken batch is being written, synced and acknowledged.
    private var busy = false
    /// Jobs handed over, and jobs whose writes are done (or failed), so far.
    private var handed = 0
    private var written = 0
    /// fsyncs run so far.
    private var syncs = 0
    /// Written blocks' buffers, for the writer to build its next blocks in (fresh 1 MiB buffers cost page faults).
    private var spareBuffers: [[UInt8]] = []
    /// The first failed write and the position of its block; set until the writer clears it.
    private var failed: (error: ArchiveError, at: WriterPosition)?

    init(maxQueuedBytes: Int = 32 << 20) {
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// fsyncs run so far: one per file for each set of groups that waited together.
    var syncCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return syncs
    }

    /// The failed write waiting to be cleared, if any.
    var failure: (error: ArchiveError, at: WriterPosition)? {
        condition.lock()
        defer { condition.unlock() }
        return failed
    }

    func start() { start(name: "whisper-archive.sync") }

    /// Writes `blocks`, syncs their files when `sync` is set, and then acknowledges the group (after every group
    /// handed over before it). Waits while too many bytes wait for their write.
    func enqueue(blocks: [PendingBlock], sync: Bool, _ completions: [Completion], _ results: [Result<AppendResult, ArchiveError>]) {
        let job = Job(blocks: blocks, sync: sync, completions: completions, results: results)
        let bytes = job.bytes
        condition.lock()
        while queuedBytes > 0 && queuedBytes + bytes > maxQueuedBytes { condition.wait() }
        jobs.append(job)
        queuedBytes += bytes
        handed += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Acknowledges a group that writes nothing, after every group handed over before it (a duplicate must not be
    /// reported stored before the envelope it duplicates is durable).
    func afterPending(_ completions: [Completion], _ results: [Result<AppendResult, ArchiveError>]) {
        condition.lock()
        if jobs.isEmpty && !busy && failed == nil {
            condition.unlock()
            for (c, r) in zip(completions, results) { c(r) }
            return
        }
        condition.unlock()
        enqueue(blocks: [], sync: false, completions, results)
    }

    /// A written block's buffer to build the next block in, if one is spare.
    func spareBuffer() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        return spareBuffers.popLast()
    }

    /// Waits until every block handed over so far is written; throws the failure if a write failed.
    func waitWritten() throws(ArchiveError) {
        condition.lock()
        defer { condition.unlock() }
        let target = handed
        while written < target && failed == nil { condition.wait() }
        if let failed { throw failed.error }
    }

    /// Waits until every group handed over so far is written and acknowledged (or failed).
    func drain() {
        condition.lock()
        while !jobs.isEmpty || busy { condition.wait() }
        condition.unlock()
    }

    /// Lets writes run again after the writer has cut the archive back to the failed block's position.
    func clearFailure() {
        condition.lock()
        failed = nil
        condition.unlock()
    }

    /// Writes, syncs and acknowledges everything handed over; returns once stopped with nothing left.
    override func loop() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            var batch = jobs
            jobs.removeAll(keepingCapacity: true)
            busy = true
            var failure = failed
            condition.unlock()

            // Writes in order; a failure stops them, and it and every later group fail.
            var firstFailed = failure == nil ? batch.count : 0
            writing: for (j, job) in batch.enumerated() where failure == nil {
                for block in job.blocks {
                    do throws(ArchiveError) {
                        try block.file.write(block.header, block.body, at: block.offset)
                    } catch {
                        failure = (error, block.before)
                        firstFailed = j
                        break writing
                    }
                }
            }
            condition.lock()
            written += batch.count
            queuedBytes -= batch.reduce(0) { $0 + $1.bytes }
            if failed == nil, let failure { failed = failure }
            condition.broadcast()
            condition.unlock()

            var outcome: [ObjectIdentifier: ArchiveError?] = [:]
            for job in batch[..<firstFailed] where job.sync {
                for block in job.blocks where outcome[ObjectIdentifier(block.file)] == nil {
                    do throws(ArchiveError) {
                        try block.file.sync()
                        outcome[ObjectIdentifier(block.file)] = .some(nil)
                    } catch {
                        outcome[ObjectIdentifier(block.file)] = error
                    }
                }
            }
            // Counted before the acknowledgements, so that an appender sees its own fsync counted.
            condition.lock()
            syncs += outcome.count
            condition.unlock()
            for (j, job) in batch.enumerated() {
                let error: ArchiveError?
                if j >= firstFailed {
                    error = failure?.error
                } else {
                    error = job.sync ? job.blocks.lazy.compactMap { outcome[ObjectIdentifier($0.file)] ?? nil }.first : nil
                }
                for (c, r) in zip(job.completions, job.results) { c(error.map { .failure($0) } ?? r) }
            }
            var buffers: [[UInt8]] = []
            for job in batch { for block in job.blocks where buffers.count < 4 { buffers.append(block.body) } }
            batch = []
            condition.lock()
            busy = false
            for b in buffers where spareBuffers.count < 4 && b.capacity >= 64 << 10 { spareBuffers.append(b) }
            condition.broadcast()
        }
        condition.unlock()
    }
}
