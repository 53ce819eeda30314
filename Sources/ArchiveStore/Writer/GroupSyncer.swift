import Foundation

/// Where the writer stands between two blocks: the active segment as it will be once the blocks before are written,
/// and the next record's sequence number. A failed write leaves the archive at the position of its block.
struct WriterPosition {
    var active: SegmentInfo
    var nextSequence: UInt64
}

/// A block the writer thread built, to be written at `offset` of `file`.
struct PendingBlock {
    enum Content {
        /// Encoded by the writer thread (a block that looked compressible, stored LZ4 if that saved 1/16).
        case encoded(header: [UInt8], body: [UInt8])
        /// Raw records, which the syncer's thread copies into the block, checksums and writes.
        case raw(BlockEncoder, firstSequence: UInt64)
    }

    let file: SegmentFile
    let offset: Int64
    let content: Content
    /// The writer's position just before this block.
    let before: WriterPosition

    /// Bytes the block takes in the segment.
    var length: Int {
        switch content {
        case .encoded(let header, let body): header.count + body.count
        case .raw(let records, _): SegmentFormat.blockHeaderLength + records.rawSize
        }
    }
}

/// Writes the writer thread's blocks and acknowledges their groups in order, each once its blocks are written and,
/// when the group asks for it, durable.
///
/// The writer thread hands a group over right after inserting its index rows; this thread builds (copies and
/// checksums) and writes the blocks of every group waiting at that moment and passes the groups on to a second
/// thread (``GroupAcknowledger``), which runs one `fdatasync` per file for all groups written meanwhile (group
/// commit) and then calls their completions. So the writer thread builds the next group, this thread copies the groups after into the page
/// cache, and the disk syncs the ones before, all at once. The writer commits index rows only after their blocks
/// are written (`waitWritten`).
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
        /// Encoded bytes of the blocks.
        var bytes: Int
    }

    /// Encoded bytes allowed to wait for their write; the writer thread waits beyond it.
    private let maxQueuedBytes: Int
    private var jobs: [Job] = []
    private var queuedBytes = 0
    /// True while a taken batch is being written and passed on.
    private var busy = false
    /// Jobs handed over, and jobs whose writes are done (or failed), so far.
    private var handed = 0
    private var written = 0
    private let acknowledger = GroupAcknowledger()
    /// The first failed write and the position of its block; set until the writer clears it.
    private var failed: (error: ArchiveError, at: WriterPosition)?

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
        acknowledger.start(name: "whisper-archive.sync")
        start(name: "whisper-archive.blocks")
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
        if jobs.isEmpty && !busy && failed == nil && acknowledger.isIdle {
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
        condition.lock()
        while !jobs.isEmpty || busy { condition.wait() }
        condition.unlock()
        acknowledger.drain()
    }

    /// Lets writes run again after the writer has cut the archive back to the failed block's position.
    func clearFailure() {
        condition.lock()
        failed = nil
        condition.unlock()
    }

    /// Writes everything handed over and passes it on; returns once stopped with nothing left.
    override func loop() {
        // Raw blocks are built in one buffer, reused (fresh 1 MiB buffers cost page faults).
        var buffer: [UInt8] = []
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
            var entries: [GroupAcknowledger.Entry] = []
            entries.reserveCapacity(batch.count)
            for (j, job) in batch.enumerated() {
                var files: [SegmentFile] = []
                for block in job.blocks where !files.contains(where: { $0 === block.file }) { files.append(block.file) }
                entries.append(.init(files: files, sync: job.sync, error: j >= firstFailed ? failure?.error : nil,
                                     completions: job.completions, results: job.results))
            }
            let bytes = batch.reduce(0) { $0 + $1.bytes }
            batch = []
            // Passed on before `written` counts them, so that `drain` never sees them in neither queue.
            acknowledger.enqueue(entries)
            condition.lock()
            written += entries.count
            queuedBytes -= bytes
            if failed == nil, let failure { failed = failure }
            busy = false
            condition.broadcast()
        }
        condition.unlock()
    }
}

/// The last stage of the writer: syncs the files of written groups and acknowledges the groups in order (one
/// `fdatasync` per file for every group written while the previous sync ran).
final class GroupAcknowledger: ConditionThread, @unchecked Sendable {
    struct Entry {
        /// The files the group's blocks went to.
        var files: [SegmentFile]
        /// Sync the files before acknowledging.
        var sync: Bool
        /// The write failure that fails the group, if any.
        var error: ArchiveError?
        var completions: [GroupSyncer.Completion]
        var results: [Result<AppendResult, ArchiveError>]
    }

    private var entries: [Entry] = []
    private var busy = false
    private var syncs = 0

    /// fsyncs run so far.
    var syncCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return syncs
    }

    /// True when nothing waits to be acknowledged.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return entries.isEmpty && !busy
    }

    func enqueue(_ more: [Entry]) {
        condition.lock()
        entries.append(contentsOf: more)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until everything passed on so far is acknowledged.
    func drain() {
        condition.lock()
        while !entries.isEmpty || busy { condition.wait() }
        condition.unlock()
    }

    override func loop() {
        condition.lock()
        while true {
            while entries.isEmpty && !stopping { condition.wait() }
            if entries.isEmpty { break }
            let batch = entries
            entries.removeAll(keepingCapacity: true)
            busy = true
            condition.unlock()
            var outcome: [ObjectIdentifier: ArchiveError?] = [:]
            for entry in batch where entry.sync && entry.error == nil {
                for file in entry.files where outcome[ObjectIdentifier(file)] == nil {
                    do throws(ArchiveError) {
                        try file.sync()
                        outcome[ObjectIdentifier(file)] = .some(nil)
                    } catch {
                        outcome[ObjectIdentifier(file)] = error
                    }
                }
            }
            // Counted before the acknowledgements, so that an appender sees its own fsync counted.
            condition.lock()
            syncs += outcome.count
            condition.unlock()
            for entry in batch {
                let error = entry.error ?? (entry.sync ? entry.files.lazy.compactMap { outcome[ObjectIdentifier($0)] ?? nil }.first : nil)
                for (c, r) in zip(entry.completions, entry.results) { c(error.map { .failure($0) } ?? r) }
            }
            condition.lock()
            busy = false
            condition.broadcast()
        }
        condition.unlock()
    }
}
