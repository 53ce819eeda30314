import Foundation
import Logging
import Whisper

/// The single writer: a dedicated thread that takes every pending append, inserts its index rows, lays its
/// records out in blocks (as its ``AppendPlanner`` plans them), and hands the group to the ``BlockWriter``, whose
/// thread copies the records into the blocks, checksums and writes them, and then to the ``SyncAcknowledger``,
/// which fsyncs them and acknowledges the group once they are durable (group commit). Copying runs beside the
/// next group's inserts; only a block that looks compressible is encoded on this thread, since its index rows
/// must say so.
///
/// Index rows stay in one open SQLite transaction across groups. It is committed `indexCommitMilliseconds` after it
/// began (busy or idle), once 128 Ki rows wait, and at once when a reader of this archive needs the rows
/// (`publishIndex`); a commit first waits until the blocks of its rows are written. A failed group or a failed write
/// rolls the transaction back whole, cuts the active segment back to where the failure began, and indexes the
/// earlier groups again from their blocks. A busy writer so writes an index page to the log once per interval
/// instead of once per group, which matters most when the rows spread over many topics.
///
/// Compaction and reindex reach the writer's state only through its maintenance operations (``withSnapshot(_:)``,
/// ``sealActiveSegment()``, ``installManifest(_:then:)``), each between two groups with every index row committed.
///
/// Lock order. A thread that holds one of these locks takes only locks further down the list:
/// 1. the archive's `swapLock` (held for writing by compaction around ``installManifest(_:then:)``, for reading by
///    queries around `publishIndex`);
/// 2. the state lock, held while a group is planned and executed, for commits and syncs, and by the maintenance
///    operations;
/// 3. the block writer's condition, which may take
/// 4. the sync acknowledger's condition.
///
/// Taken last and on their own: the checkpointer's condition, the `behind` flag, the segment readers' lock, and
/// this thread's queue condition, which the idle wait releases before it takes the state lock.
final class ArchiveWriter: QueueThread<ArchiveWriter.Request>, @unchecked Sendable {
    /// An append waiting for the writer thread.
    struct Request {
        var envelopes: [Envelope]
        var arrivals: [UInt32]?
        var completion: BlockWriter.Completion
    }

    private let directory: String
    private let segmentsDirectory: String
    private let configuration: ArchiveConfiguration
    private let limits: AppendPlanner.Limits
    private let index: ArchiveIndex
    private var manifest: Manifest {
        didSet { sealedSummary = SegmentSummary(manifest.segments) }
    }
    /// The sealed segments' count, bytes and span, for the gauges (summed once per manifest).
    private var sealedSummary: SegmentSummary
    private let metrics = StoreMetrics()
    /// The active segment and the next sequence number, as they are between two groups.
    private var position: WriterPosition
    private var activeFile: SegmentFile
    private var encoder: BlockEncoder
    /// The group's blocks not yet handed to the block writer.
    private var groupBlocks: [PendingBlock] = []
    private let blockWriter = BlockWriter()
    private let checkpointer: IndexCheckpointer

    /// Held while a group is written and by maintenance operations.
    private let stateLock = NSLock()
    private var dirty = false
    private var lastSync = DispatchTime.now()
    /// Raw and stored payload bytes written by this writer (for the compression ratio).
    private var rawPayloadBytes: Int64 = 0
    private var storedPayloadBytes: Int64 = 0
    /// True while index rows are inserted but not committed (the open transaction's start, and its row count).
    private var transactionStart: DispatchTime?
    private var uncommittedRows = 0
    /// Set while rows wait uncommitted; read by `publishIndex` without waiting for the state lock.
    private let behind = LockedFlag()

    init(
        directory: String,
        configuration: ArchiveConfiguration,
        index: ArchiveIndex,
        manifest: Manifest,
        active: SegmentInfo,
        activeFile: SegmentFile,
        nextSequence: UInt64
    ) {
        self.directory = directory
        self.segmentsDirectory = directory + "/segments"
        self.configuration = configuration
        self.limits = AppendPlanner.Limits(configuration)
        self.index = index
        self.manifest = manifest
        self.sealedSummary = SegmentSummary(manifest.segments)
        self.position = WriterPosition(active: active, nextSequence: nextSequence)
        self.activeFile = activeFile
        self.encoder = BlockEncoder(capacity: configuration.blockMaxBytes + 64 * 1024)
        self.checkpointer = IndexCheckpointer(path: index.db.path, interval: configuration.indexCheckpointSeconds)
    }

    func start() {
        metrics.report(sealed: sealedSummary, active: position.active)
        // Checkpoints run on the checkpointer's thread, not inside this thread's commits.
        index.tuneForWriter()
        start(name: "whisper-archive.writer")
        blockWriter.start()
        checkpointer.start()
    }

    /// Queues a request; the completion runs on the writer's threads.
    func submit(_ request: Request) {
        guard enqueue([request]) else {
            request.completion(.failure(ArchiveError(.closed, "the archive is closed")))
            return
        }
    }

    /// Drains pending appends, syncs, and stops the threads.
    func close() { stop() }

    // MARK: maintenance

    /// Runs `body` on the writer's state between groups, with every index row committed.
    private func exclusive<T>(_ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        stateLock.lock()
        defer { stateLock.unlock() }
        try commitOrReindex()
        return try body()
    }

    /// The segments as they are between two groups.
    private var snapshot: WriterSnapshot {
        WriterSnapshot(sealed: manifest.segments, active: position.active, activeFile: activeFile)
    }

    /// Runs `body` between groups, with every index row committed, on the segments (the active one as far as it
    /// is written, with its file) and the writer's index connection, which `body` may change.
    func withSnapshot<T>(_ body: (WriterSnapshot, ArchiveIndex) throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        try exclusive { () throws(ArchiveError) -> T in try body(snapshot, index) }
    }

    /// Seals the active segment, when it holds records, and starts the next one, between groups. Returns the
    /// segments before and after: the segment sealed is the active one of `before`, unless both are the same.
    func sealActiveSegment() throws(ArchiveError) -> (before: WriterSnapshot, after: WriterSnapshot) {
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        return try exclusive { () throws(ArchiveError) -> (before: WriterSnapshot, after: WriterSnapshot) in
            let before = snapshot
            try roll(now: now)
            return (before, snapshot)
        }
    }

    /// Installs a new manifest and the index changes that go with it, in one exclusion between groups: `change`
    /// edits the current manifest (given the active segment), which is stored and becomes the writer's; then
    /// `apply` runs with the index, the manifest installed and the active segment. If `apply` throws, the manifest
    /// stays installed.
    func installManifest(
        _ change: (inout Manifest, _ active: SegmentInfo) -> Void,
        then apply: (ArchiveIndex, Manifest, _ active: SegmentInfo) throws(ArchiveError) -> Void
    ) throws(ArchiveError) {
        try exclusive { () throws(ArchiveError) in
            var next = manifest
            change(&next, position.active)
            try next.store(directory: directory)
            manifest = next
            try apply(index, next, position.active)
        }
    }

    /// Commits the index rows still waiting, so that a reader sees every envelope appended before the call.
    /// Returns at once when none wait; otherwise it waits for the group being built and for the blocks of the rows.
    func publishIndex() throws(ArchiveError) {
        guard behind.value else { return }
        stateLock.lock()
        defer { stateLock.unlock() }
        try commitOrReindex()
    }

    /// The segments, the active one as far as it is written.
    var segments: [SegmentInfo] {
        stateLock.lock()
        defer { stateLock.unlock() }
        if (try? blockWriter.waitWritten()) == nil { recover(discarding: nil) }
        return manifest.segments + [position.active]
    }

    /// fsyncs that made acknowledged appends durable so far (`--sync always`; group commit shares each).
    var groupSyncCount: Int { blockWriter.syncCount }

    /// Raw and stored payload bytes written so far by this writer.
    var payloadTotals: (raw: Int64, stored: Int64) {
        stateLock.lock()
        defer { stateLock.unlock() }
        return (rawPayloadBytes, storedPayloadBytes)
    }

    // MARK: commits and syncs

    /// Commits the open index transaction, if any (state lock held), once the blocks of its rows are written.
    /// After a failure the transaction still counts as open, for `recover`.
    private func commitIndex() throws(ArchiveError) {
        guard transactionStart != nil else { return }
        try blockWriter.waitWritten()
        try index.commit()
        transactionStart = nil
        uncommittedRows = 0
        behind.value = false
        checkpointer.noteCommit()
    }

    /// When a transaction begun at `start` is due for its commit.
    private func commitDue(_ start: DispatchTime) -> DispatchTime {
        start + .milliseconds(configuration.indexCommitMilliseconds)
    }

    /// Commits outside a group (state lock held); on failure the rows are rebuilt from the segments.
    private func commitOrReindex() throws(ArchiveError) {
        do {
            try commitIndex()
        } catch {
            configuration.logger.error("committing the index failed: \(error)")
            recover(discarding: nil)
            throw error
        }
    }

    /// fsyncs the active segment once the blocks handed over are written (state lock held).
    private func syncNow() {
        do {
            try blockWriter.waitWritten()
            try metrics.timedSync { () throws(ArchiveError) in try activeFile.sync() }
            dirty = false
            lastSync = DispatchTime.now()
        } catch {
            configuration.logger.error("fsync failed: \(error)")
            if blockWriter.failure != nil { recover(discarding: nil) }
        }
    }

    // MARK: the thread

    /// Between groups: commits rows that waited their interval and syncs a segment that waited its interval
    /// (`--sync N`), or waits for the next of those moments or for appends.
    override func waitForWork() {
        // `transactionStart`, `dirty` and `lastSync` belong to the state lock (a reader's publishIndex may commit
        // meanwhile, and compaction's roll syncs the segment), which is taken with the queue released.
        condition.unlock()
        stateLock.lock()
        let open = transactionStart
        var syncDue: DispatchTime?
        if dirty, case .interval(let ms) = configuration.sync { syncDue = lastSync + .milliseconds(ms) }
        stateLock.unlock()
        condition.lock()
        guard queue.isEmpty && !stopping else { return }
        // Rows waiting uncommitted are committed when the interval ends, unless appends come first.
        guard let due = open.map(commitDue) ?? syncDue else {
            condition.wait()
            return
        }
        let now = DispatchTime.now()
        if now >= due {
            condition.unlock()
            stateLock.lock()
            if open != nil {
                try? commitOrReindex()
            } else if dirty {
                syncNow()
            }
            stateLock.unlock()
            condition.lock()
            return
        }
        let wait = Double(due.uptimeNanoseconds - now.uptimeNanoseconds) / 1e9
        _ = condition.wait(until: Date(timeIntervalSinceNow: max(0.0005, wait)))
    }

    /// Writes a group: its index rows and blocks here, then the block writer writes, syncs and acknowledges it.
    override func process(_ group: [Request]) -> () -> Void {
        stateLock.lock()
        let outcome = execute(group)
        metrics.report(sealed: sealedSummary, active: position.active)
        if let blocks = outcome.blocks, !blocks.isEmpty || outcome.needsSync {
            // Handed over before the state lock is released, so that a commit (which waits for the blocks
            // handed over) never publishes rows whose blocks are not written. The block writer writes the
            // blocks, and the acknowledger makes them durable and acknowledges the group, while this thread
            // goes on with the next group.
            blockWriter.enqueue(blocks: blocks, sync: outcome.needsSync, group.map(\.completion), outcome.results)
        } else {
            blockWriter.afterPending(group.map(\.completion), outcome.results)
        }
        if outcome.blocks != nil, let start = transactionStart,
            uncommittedRows >= 131_072 || DispatchTime.now() >= commitDue(start)
        {
            // A commit may come before the fsync: readers find the records in the page cache, and if the
            // machine fails before the fsync, recovery removes the rows the segments lost.
            try? commitOrReindex()
        }
        stateLock.unlock()
        return {}
    }

    /// After the last group: commits, stops the other threads, checkpoints the index and syncs the segment.
    override func finish() {
        stateLock.lock()
        try? commitOrReindex()
        stateLock.unlock()
        blockWriter.stop()
        checkpointer.stop()
        // At rest the index is one file: the log is copied back and emptied.
        try? index.checkpoint()
        stateLock.lock()
        if dirty || blockWriter.failure != nil { syncNow() }
        // Closed here, on this thread, so that the directory is at rest when `close()` returns (the last
        // reference to this writer may go later, on this thread).
        index.close()
        stateLock.unlock()
    }

    // MARK: a group

    /// Executes the plan of a group (state lock held): inserts its new envelopes into the index and encodes them
    /// as blocks for the block writer (`blocks`, nil when the group failed); `needsSync` when the group may be
    /// acknowledged only after an fsync.
    private func execute(_ group: [Request]) -> (results: [Result<AppendResult, ArchiveError>], blocks: [PendingBlock]?, needsSync: Bool) {
        if blockWriter.failure != nil { recover(discarding: nil) }
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        var plan = AppendPlanner(appends: group.map(\.envelopes), at: position, limits: limits, now: now)
        do {
            if transactionStart == nil {
                try index.beginWriteTransaction()
                transactionStart = .now()
            }
            behind.value = true
            planning: while true {
                switch plan.next() {
                case .roll:
                    position = plan.position
                    try roll(now: now)
                    plan.rolled(to: position.active)
                case .insert(let rows, let order):
                    let added = try index.insert(rows, order: order)
                    var isNew = [Bool](repeating: added == rows.count, count: rows.count)
                    if added > 0 && added < rows.count {
                        // A row inserted here points at its planned place; a duplicate's row points elsewhere.
                        for (k, row) in rows.enumerated() { isNew[k] = try index.storedLocation(of: row) == row.location }
                    }
                    let placement = plan.inserted(isNew: isNew)
                    for row in placement.moved { try index.setLocation(of: row) }
                    for (ri, ei) in placement.records {
                        _ = encoder.append(rlp: group[ri].envelopes[ei].rlp, arrival: group[ri].arrivals?[ei] ?? now)
                    }
                case .flush:
                    plan.flushed(length: try flushBlock(group, plan: plan))
                case .done:
                    break planning
                }
            }
            position = plan.position
            let needsSync = plan.results.contains(where: { $0.added > 0 }) && syncDecision()
            try index.addTopicStats(plan.topicStats)
            try index.setHighWaterMark(segment: position.active.firstSequence, offset: position.active.bytes)
            try index.setMeta("next_sequence", Int64(position.nextSequence))
            uncommittedRows += group.reduce(0) { $0 + $1.envelopes.count }
            let blocks = groupBlocks
            groupBlocks.removeAll()
            return (plan.results.map { .success($0) }, blocks, needsSync)
        } catch {
            configuration.logger.error("append failed: \(error)")
            position = plan.position
            recover(discarding: groupBlocks.first?.before ?? plan.blockStart)
            return (group.map { _ in .failure(error) }, nil, false)
        }
    }

    /// Whether a group that added envelopes is acknowledged only after an fsync (`SyncPolicy`); otherwise the
    /// segment is left dirty for the interval's or the close's sync.
    private func syncDecision() -> Bool {
        switch configuration.sync {
        case .always:
            return true
        case .interval(let ms):
            dirty = true
            if DispatchTime.now() >= lastSync + .milliseconds(ms) {
                dirty = false
                lastSync = .now()
                return true
            }
            return false
        case .none:
            dirty = true
            return false
        }
    }

    /// After a failed group, commit or write (state lock held): the open index transaction also held the rows of
    /// earlier groups, whose blocks were written (and may be acknowledged). It is rolled back whole; the active
    /// segment is cut back to the first block that failed or is `discarding` (what the failed group encoded but
    /// never handed over), and the rows of the blocks before it are indexed again, as recovery does at open. If
    /// that fails too, recovery does it at the next open.
    private func recover(discarding: WriterPosition?) {
        blockWriter.drain()
        encoder.removeAll()
        groupBlocks.removeAll()
        if let cut = blockWriter.failure?.at ?? discarding {
            if cut.active.firstSequence == position.active.firstSequence {
                do {
                    try activeFile.truncate(to: cut.active.bytes)
                    position = cut
                } catch {
                    configuration.logger.error(
                        "cutting \(position.active.fileName) back to \(cut.active.bytes) bytes failed: \(error); recovery cuts it at the next open"
                    )
                }
            } else {
                configuration.logger.error("a failed block of segment \(cut.active.fileName) is left for recovery at the next open")
            }
        }
        blockWriter.clearFailure()
        if transactionStart != nil {
            try? index.rollback()
            transactionStart = nil
            uncommittedRows = 0
        }
        behind.value = false
        var report = RecoveryReport()
        do {
            try Archive.catchUp(
                segments: manifest.segments + [position.active],
                activeFile: activeFile,
                segDir: segmentsDirectory,
                index: index,
                logger: configuration.logger,
                report: &report
            )
            checkpointer.noteCommit()
        } catch {
            configuration.logger.error("indexing the blocks written before the failure failed: \(error); they are indexed at the next open")
        }
    }

    /// Hands the block being built (as `plan` has it) to the block writer with the group's blocks; returns its
    /// length in the segment. A block that looks compressible is encoded here, since its rows must say so; any
    /// other is left raw for the block writer's thread to copy and checksum.
    private func flushBlock(_ group: [Request], plan: AppendPlanner) throws(ArchiveError) -> Int {
        let active = plan.position.active
        let nextSequence = plan.position.nextSequence
        let blockRows = plan.blockRecords
        let content: PendingBlock.Content
        if configuration.compression && encoder.worthCompressing() {
            var buffer: [UInt8] = []
            let (header, body) = encoder.encodeParts(firstSequence: nextSequence, compress: true, buffer: &buffer)
            if BlockHeader(trusted: header).compressed {
                for (ri, ei) in blockRows {
                    let e = group[ri].envelopes[ei]
                    try index.markCompressed(topic: e.topic.rawValue, sentTime: e.sentTime, hash: e.hash, blockOffset: active.bytes)
                }
            }
            content = .encoded(header: header, body: body)
            storedPayloadBytes += Int64(body.count)
        } else {
            content = .raw(encoder, firstSequence: nextSequence)
            storedPayloadBytes += Int64(encoder.rawSize)
        }
        let block = PendingBlock(file: activeFile, offset: active.bytes, content: content, before: plan.blockStart)
        groupBlocks.append(block)
        rawPayloadBytes += Int64(encoder.rawSize)
        encoder.removeAll()
        return block.length
    }

    /// Seals the active segment (sync, manifest) and starts a new one (state lock held, the block being built
    /// empty); does nothing while it holds no records.
    private func roll(now: UInt32) throws(ArchiveError) {
        guard position.active.records > 0 else { return }
        // The segment's blocks encoded so far in this group go first; all of its blocks must be written.
        if !groupBlocks.isEmpty {
            blockWriter.enqueue(blocks: groupBlocks, sync: false, [], [])
            groupBlocks.removeAll()
        }
        try blockWriter.waitWritten()
        try activeFile.sync()
        dirty = false
        var sealed = position.active
        sealed.sealed = true
        var next = manifest
        next.segments.append(sealed)
        next.nextSequence = position.nextSequence
        try next.store(directory: directory)
        manifest = next
        let (info, file) = try ArchiveWriter.createSegment(segmentsDirectory: segmentsDirectory, firstSequence: position.nextSequence, created: now)
        position.active = info
        activeFile = file
        configuration.logger.debug("sealed segment \(sealed.fileName) (\(sealed.records) records, \(sealed.bytes) bytes)")
    }

    static func createSegment(segmentsDirectory: String, firstSequence: UInt64, created: UInt32) throws(ArchiveError) -> (SegmentInfo, SegmentFile) {
        let path = segmentsDirectory + "/" + SegmentFormat.segmentFileName(firstSequence: firstSequence)
        let file = try SegmentFile(path: path, writable: true, create: true)
        let header = SegmentFormat.segmentHeader(firstSequence: firstSequence, created: created)
        try file.write(header, at: 0)
        try file.sync()
        try SegmentFile.syncDirectory(segmentsDirectory)
        let info = SegmentInfo.empty(firstSequence: firstSequence, created: created)
        return (info, file)
    }
}
