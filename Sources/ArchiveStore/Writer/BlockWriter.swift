import Foundation

/// Writes the writer thread's blocks and passes their groups on to the ``SyncAcknowledger``, in order.
///
/// The writer thread hands a group over right after inserting its index rows; this thread builds (copies and
/// checksums) and writes the blocks of every group waiting at that moment and passes the groups on to the
/// acknowledger's thread, which runs one `fdatasync` per file for all groups written meanwhile (group commit) and
/// then calls their completions. So the writer thread builds the next group, this thread copies the groups after
/// into the page cache, and the disk syncs the ones before, all at once. The writer commits index rows only after
/// their blocks are written (`waitWritten`).
///
/// A failed write fails its group and every group after it, until the writer has cut the segment back to the
/// failed group's position and cleared the failure (`clearFailure`).
final class BlockWriter: QueueThread<BlockWriter.Job>, @unchecked Sendable {
    typealias Completion = @Sendable (Result<AppendResult, ArchiveError>) -> Void

    /// A group's blocks and its acknowledgements.
    struct Job {
        var blocks: [PendingBlock]
        /// fsync the blocks' files before acknowledging.
        var sync: Bool
        var completions: [Completion]
        var results: [Result<AppendResult, ArchiveError>]
        /// Encoded bytes of the blocks.
        var bytes: Int
    }

    /// Encoded bytes allowed to wait for their write; the writer thread waits beyond it.
    private let maxQueuedBytes: Int
    private var queuedBytes = 0
    /// Jobs handed over, and jobs whose writes are done (or failed), so far.
    private var handed = 0
    private var written = 0
    private let acknowledger = SyncAcknowledger()
    /// The first failed write and the position of its group; set until the writer clears it.
    private var failed: (error: ArchiveError, at: WriterPosition)?
    /// Raw blocks are built in one buffer, reused by this thread (fresh 1 MiB buffers cost page faults).
    private var buffer: [UInt8] = []

    init(maxQueuedBytes: Int = 32 << 20) {
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// fsyncs run so far: one per file for each set of groups that waited together.
    var syncCount: Int { acknowledger.syncCount }

    /// The failed write waiting to be cleared, if any.
    var failure: (error: ArchiveError, at: WriterPosition)? {
        condition.lock()
        defer { condition.unlock() }
        return failed
    }

    func start() {
        acknowledger.start()
        start(name: "whisper-archive.block-writer")
    }

    /// Writes and acknowledges everything handed over, then stops both threads.
    override func stop() {
        super.stop()
        acknowledger.stop()
    }

    /// Writes `blocks`, syncs their files when `sync` is set, and then acknowledges the group (after every group
    /// handed over before it). Waits while too many bytes wait for their write.
    func enqueue(blocks: [PendingBlock], sync: Bool, _ completions: [Completion], _ results: [Result<AppendResult, ArchiveError>]) {
        let bytes = blocks.reduce(0) { $0 + $1.length }
        let job = Job(blocks: blocks, sync: sync, completions: completions, results: results, bytes: bytes)
        condition.lock()
        while queuedBytes > 0 && queuedBytes + bytes > maxQueuedBytes { condition.wait() }
        appendLocked([job])
        queuedBytes += bytes
        handed += 1
        condition.unlock()
    }

    /// Acknowledges a group that writes nothing, after every group handed over before it (a duplicate must not be
    /// reported stored before the envelope it duplicates is durable).
    func afterPending(_ completions: [Completion], _ results: [Result<AppendResult, ArchiveError>]) {
        condition.lock()
        if isIdleLocked && failed == nil && acknowledger.isIdle {
            condition.unlock()
            for (c, r) in zip(completions, results) { c(r) }
            return
        }
        condition.unlock()
        enqueue(blocks: [], sync: false, completions, results)
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
        waitUntilIdle()
        acknowledger.waitUntilIdle()
    }

    /// Lets writes run again after the writer has cut the archive back to the failed group's position.
    func clearFailure() {
        condition.lock()
        failed = nil
        condition.unlock()
    }

    /// Writes a batch of jobs in order and passes them on; a failure stops the writes, and it and every later
    /// job fail.
    override func process(_ batch: [Job]) -> () -> Void {
        condition.lock()
        var failure = failed
        condition.unlock()
        var firstFailed = failure == nil ? batch.count : 0
        writing: for (j, job) in batch.enumerated() where failure == nil {
            for block in job.blocks {
                do throws(ArchiveError) {
                    switch block.content {
                    case .encoded(let header, let body):
                        try block.file.write(header, body, at: block.offset)
                    case .raw(let records, let firstSequence):
                        let (header, body) = records.encodeParts(firstSequence: firstSequence, compress: false, buffer: &buffer)
                        try block.file.write(header, body, at: block.offset)
                    }
                } catch {
                    // The whole job fails, so the segment is cut back to before its first block in this file,
                    // not to the failed block: a job's earlier blocks must not outlive its failure.
                    let first = job.blocks.first { $0.file === block.file } ?? block
                    failure = (error, first.before)
                    firstFailed = j
                    break writing
                }
            }
        }
        var entries: [SyncAcknowledger.Entry] = []
        entries.reserveCapacity(batch.count)
        for (j, job) in batch.enumerated() {
            var files: [SegmentFile] = []
            for block in job.blocks where !files.contains(where: { $0 === block.file }) { files.append(block.file) }
            entries.append(
                .init(
                    files: files,
                    sync: job.sync,
                    error: j >= firstFailed ? failure?.error : nil,
                    completions: job.completions,
                    results: job.results
                )
            )
        }
        let bytes = batch.reduce(0) { $0 + $1.bytes }
        // Passed on before `written` counts them, so that `drain` never sees them in neither queue.
        acknowledger.pass(entries)
        let count = entries.count
        return { [self] in
            written += count
            queuedBytes -= bytes
            if failed == nil, let failure { failed = failure }
        }
    }
}
