import Foundation
import Logging
import Whisper

/// The single writer: a dedicated thread that takes every pending append, inserts its index rows, lays its
/// records out in blocks, and hands the group to the syncer, whose thread copies the records into the blocks,
/// checksums and writes them, and acknowledges the group once they are durable (group commit). Copying runs beside
/// the next group's inserts; only a block that looks compressible is encoded on this thread, since its index rows
/// must say so.
///
/// Index rows stay in one open SQLite transaction across groups. It is committed `indexCommitMilliseconds` after it
/// began (busy or idle), once 128 Ki rows wait, and at once when a reader of this archive needs the rows
/// (`publishIndex`); a commit first waits until the blocks of its rows are written. A failed group or a failed write
/// rolls the transaction back whole, cuts the active segment back to where the failure began, and indexes the
/// earlier groups again from their blocks. A busy writer so writes an index page to the log once per interval
/// instead of once per group, which matters most when the rows spread over many topics.
final class ArchiveWriter: @unchecked Sendable {
    struct Request {
        var envelopes: [Envelope]
        var arrivals: [UInt32]?
        var completion: @Sendable (Result<AppendResult, ArchiveError>) -> Void
    }

    let directory: String
    let segmentsDirectory: String
    let configuration: ArchiveConfiguration
    let index: ArchiveIndex
    var manifest: Manifest
    var active: SegmentInfo
    var activeFile: SegmentFile
    var nextSequence: UInt64
    private var encoder: BlockEncoder
    /// The records of the block being built, as (request, envelope) indices into the group.
    private var blockRows: [(Int, Int)] = []
    /// The rows of the records planned for the block being built.
    private var planned: [PlannedRow] = []
    /// The group's blocks not yet handed to the syncer.
    private var groupBlocks: [PendingBlock] = []
    /// The position after the last block encoded (where the block being built starts).
    private var afterLastBlock: WriterPosition
    private let syncer = GroupSyncer()
    private let checkpointer: IndexCheckpointer

    private let condition = NSCondition()
    /// Held while a group is written and by maintenance operations.
    private let stateLock = NSLock()
    private var pending: [Request] = []
    private var closing = false
    private var finished = false
    private var thread: Thread?
    private var dirty = false
    private var lastSync = DispatchTime.now()
    /// Raw and stored payload bytes written by this writer (for the compression ratio).
    private(set) var rawPayloadBytes: Int64 = 0
    private(set) var storedPayloadBytes: Int64 = 0
    private(set) var groups = 0
    /// True while index rows are inserted but not committed (the open transaction's start, and its row count).
    private var transactionStart: DispatchTime?
    private var uncommittedRows = 0
    /// Set while rows wait uncommitted; read by `publishIndex` without waiting for the state lock.
    private let behind = LockedFlag()

    init(directory: String, configuration: ArchiveConfiguration, index: ArchiveIndex, manifest: Manifest,
         active: SegmentInfo, activeFile: SegmentFile, nextSequence: UInt64) {
        self.directory = directory
        self.segmentsDirectory = directory + "/segments"
        self.configuration = configuration
        self.index = index
        self.manifest = manifest
        self.active = active
        self.activeFile = activeFile
        self.nextSequence = nextSequence
        self.afterLastBlock = WriterPosition(active: active, nextSequence: nextSequence)
        self.encoder = BlockEncoder(capacity: configuration.blockMaxBytes + 64 * 1024)
        self.checkpointer = IndexCheckpointer(path: index.db.path, interval: configuration.indexCheckpointSeconds)
    }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "whisper-archive.writer"
        thread = t
        // Checkpoints run on the checkpointer's thread, not inside this thread's commits.
        // The log file is cut back to 64 MiB whenever it starts over.
        try? index.db.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864")
        // A second of rows changes the last index page of every topic it touches. Beyond the cache, SQLite
        // writes changed pages to the log before the commit and reads them back for the next row: over
        // 10,000 topics, 64 MiB instead of 16 MiB took inserts from 5.9 to 2.5 µs per row.
        try? index.db.execute("PRAGMA cache_size = -65536")
        t.start()
        syncer.start()
        checkpointer.start()
    }

    /// Queues a request; the completion runs on the writer thread.
    func submit(_ request: Request) {
        condition.lock()
        if closing {
            condition.unlock()
            request.completion(.failure(ArchiveError(.closed, "the archive is closed")))
            return
        }
        pending.append(request)
        condition.signal()
        condition.unlock()
    }

    /// Drains pending appends, syncs, and stops the thread.
    func close() {
        condition.lock()
        closing = true
        condition.signal()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Runs `body` on the writer's state between groups (used by maintenance operations), with every index row committed.
    func exclusive<T>(_ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        stateLock.lock()
        defer { stateLock.unlock() }
        try commitOrReindex()
        return try body()
    }

    /// Commits the index rows still waiting, so that a reader sees every envelope appended before the call.
    /// Returns at once when none wait; otherwise it waits for the group being built and for the blocks of the rows.
    func publishIndex() throws(ArchiveError) {
        guard behind.value else { return }
        stateLock.lock()
        defer { stateLock.unlock() }
        try commitOrReindex()
    }

    /// Commits the open index transaction, if any (state lock held), once the blocks of its rows are written.
    /// After a failure the transaction still counts as open, for `recover`.
    private func commitIndex() throws(ArchiveError) {
        guard transactionStart != nil else { return }
        try syncer.waitWritten()
        try index.db.execute("COMMIT")
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

    /// The segments, the active one as far as it is written.
    var segments: [SegmentInfo] {
        stateLock.lock()
        defer { stateLock.unlock() }
        if (try? syncer.waitWritten()) == nil { recover(discarding: nil) }
        return manifest.segments + [active]
    }

    /// fsyncs that made acknowledged appends durable so far (`--sync always`; group commit shares each).
    var groupSyncCount: Int { syncer.syncCount }

    /// Raw and stored payload bytes written so far by this writer.
    var payloadTotals: (raw: Int64, stored: Int64) {
        stateLock.lock()
        defer { stateLock.unlock() }
        return (rawPayloadBytes, storedPayloadBytes)
    }

    private func run() {
        condition.lock()
        while true {
            while pending.isEmpty && !closing {
                // `transactionStart`, `dirty` and `lastSync` belong to the state lock (a reader's publishIndex may
                // commit meanwhile, and compaction's roll syncs the segment).
                stateLock.lock()
                let open = transactionStart
                var syncDue: DispatchTime?
                if dirty, case .interval(let ms) = configuration.sync { syncDue = lastSync + .milliseconds(ms) }
                stateLock.unlock()
                if let start = open {
                    // Rows wait uncommitted: they are committed when the interval ends, unless appends come first.
                    let due = commitDue(start)
                    if DispatchTime.now() >= due {
                        condition.unlock()
                        stateLock.lock()
                        try? commitOrReindex()
                        stateLock.unlock()
                        condition.lock()
                        continue
                    }
                    let wait = Double(due.uptimeNanoseconds - DispatchTime.now().uptimeNanoseconds) / 1e9
                    _ = condition.wait(until: Date(timeIntervalSinceNow: max(0.0005, wait)))
                    continue
                }
                if let due = syncDue {
                    if DispatchTime.now() >= due {
                        condition.unlock()
                        stateLock.lock()
                        if dirty { syncNow() }
                        stateLock.unlock()
                        condition.lock()
                        continue
                    }
                    let wait = Double(due.uptimeNanoseconds - DispatchTime.now().uptimeNanoseconds) / 1e9
                    _ = condition.wait(until: Date(timeIntervalSinceNow: max(0.0005, wait)))
                } else {
                    condition.wait()
                }
            }
            if pending.isEmpty && closing { break }
            let group = pending
            pending.removeAll(keepingCapacity: true)
            condition.unlock()
            stateLock.lock()
            let outcome = process(group)
            if let blocks = outcome.blocks, !blocks.isEmpty || outcome.needsSync {
                // Handed over before the state lock is released, so that a commit (which waits for the blocks
                // handed over) never publishes rows whose blocks are not written. The syncer writes the blocks,
                // makes them durable and acknowledges the group while this thread goes on with the next group.
                syncer.enqueue(blocks: blocks, sync: outcome.needsSync, group.map(\.completion), outcome.results)
            } else {
                syncer.afterPending(group.map(\.completion), outcome.results)
            }
            if outcome.blocks != nil, let start = transactionStart,
               uncommittedRows >= 131_072 || DispatchTime.now() >= commitDue(start) {
                // A commit may come before the fsync: readers find the records in the page cache, and if the
                // machine fails before the fsync, recovery removes the rows the segments lost.
                try? commitOrReindex()
            }
            stateLock.unlock()
            condition.lock()
        }
        stateLock.lock()
        try? commitOrReindex()
        stateLock.unlock()
        syncer.stop()
        checkpointer.stop()
        // At rest the index is one file: the log is copied back and emptied.
        try? index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stateLock.lock()
        if dirty || syncer.failure != nil { syncNow() }
        stateLock.unlock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// fsyncs the active segment once the blocks handed over are written (state lock held).
    private func syncNow() {
        do {
            try syncer.waitWritten()
            try activeFile.sync()
            dirty = false
            lastSync = DispatchTime.now()
        } catch {
            configuration.logger.error("fsync failed: \(error)")
            if syncer.failure != nil { recover(discarding: nil) }
        }
    }

    /// Inserts a group's new envelopes into the index and encodes them as blocks for the syncer (`blocks`, nil when
    /// the group failed); `needsSync` when the group may be acknowledged only after an fsync.
    private func process(_ group: [Request]) -> (results: [Result<AppendResult, ArchiveError>], blocks: [PendingBlock]?, needsSync: Bool) {
        if syncer.failure != nil { recover(discarding: nil) }
        var results = [AppendResult](repeating: AppendResult(), count: group.count)
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        var topicStats: [UInt32: TopicStats] = [:]
        do {
            if transactionStart == nil {
                try index.db.execute("BEGIN IMMEDIATE")
                transactionStart = .now()
            }
            behind.value = true
            // Records go into blocks in arrival order. Each round plans the records that fit the block being built
            // as if all were new, inserts their rows in key order (neighbouring rows share index pages), and only
            // when some key already existed tells the duplicates apart and moves the rows after them.
            let refs = group.indices.flatMap { ri in group[ri].envelopes.indices.map { (ri, $0) } }
            var next = 0
            while next < refs.count {
                if encoder.isEmpty { try rollIfNeeded(now: now) }
                var size = encoder.rawSize
                planned.removeAll(keepingCapacity: true)
                while next + planned.count < refs.count {
                    let (ri, ei) = refs[next + planned.count]
                    let envelope = group[ri].envelopes[ei]
                    let recordSize = envelope.rlp.count + SegmentFormat.recordHeaderLength
                    if size > 0 && size + recordSize > configuration.blockMaxBytes { break }
                    planned.append(PlannedRow(topic: envelope.topic.rawValue, sentTime: envelope.sentTime, hash: envelope.hash,
                                              location: RecordLocation(segment: active.firstSequence, blockOffset: active.bytes, compressed: false,
                                                                       position: size + SegmentFormat.recordHeaderLength, length: envelope.rlp.count)))
                    size += recordSize
                }
                if planned.isEmpty {
                    // The next record does not fit the block being built.
                    try flushBlock(group)
                    continue
                }
                let order = planned.indices.sorted { a, b in
                    let x = planned[a], y = planned[b]
                    if x.topic != y.topic { return x.topic < y.topic }
                    if x.sentTime != y.sentTime { return x.sentTime < y.sentTime }
                    return x.hash.lexicographicallyPrecedes(y.hash)
                }
                let added = try index.insert(planned, order: order)
                var position = encoder.rawSize
                for (k, row) in planned.enumerated() {
                    let (ri, ei) = refs[next + k]
                    let envelope = group[ri].envelopes[ei]
                    // A row inserted here points at its planned place; a duplicate's row points elsewhere.
                    let isNew = added == planned.count ? true : added == 0 ? false : try index.storedLocation(of: row) == row.location
                    guard isNew else {
                        results[ri].duplicates += 1
                        continue
                    }
                    if position + SegmentFormat.recordHeaderLength != row.location.position {
                        // A duplicate before it in this block: the record moves up.
                        var moved = row
                        moved.location.position = position + SegmentFormat.recordHeaderLength
                        try index.setLocation(of: moved)
                    }
                    position += envelope.rlp.count + SegmentFormat.recordHeaderLength
                    _ = encoder.append(rlp: envelope.rlp, arrival: group[ri].arrivals?[ei] ?? now)
                    blockRows.append((ri, ei))
                    active.add(sentTime: row.sentTime)
                    topicStats[row.topic, default: TopicStats()].add(row.sentTime)
                    results[ri].added += 1
                    results[ri].bytes += envelope.rlp.count
                }
                next += planned.count
            }
            try flushBlock(group)
            var needsSync = false
            if results.contains(where: { $0.added > 0 }) {
                switch configuration.sync {
                case .always:
                    needsSync = true
                case .interval(let ms):
                    dirty = true
                    if DispatchTime.now() >= lastSync + .milliseconds(ms) {
                        needsSync = true
                        dirty = false
                        lastSync = .now()
                    }
                case .none:
                    dirty = true
                }
            }
            try index.addTopicStats(topicStats)
            try index.setHighWaterMark(segment: active.firstSequence, offset: active.bytes)
            try index.setMeta("next_sequence", Int64(nextSequence))
            groups += 1
            uncommittedRows += group.reduce(0) { $0 + $1.envelopes.count }
            let blocks = groupBlocks
            groupBlocks.removeAll()
            return (results.map { .success($0) }, blocks, needsSync)
        } catch {
            configuration.logger.error("append failed: \(error)")
            recover(discarding: groupBlocks.first?.before ?? afterLastBlock)
            return (group.map { _ in .failure(error) }, nil, false)
        }
    }

    /// After a failed group, commit or write (state lock held): the open index transaction also held the rows of
    /// earlier groups, whose blocks were written (and may be acknowledged). It is rolled back whole; the active
    /// segment is cut back to the first block that failed or is `discarding` (what the failed group encoded but
    /// never handed over), and the rows of the blocks before it are indexed again, as recovery does at open. If
    /// that fails too, recovery does it at the next open.
    private func recover(discarding: WriterPosition?) {
        syncer.drain()
        encoder.removeAll()
        blockRows.removeAll()
        groupBlocks.removeAll()
        if let cut = syncer.failure?.at ?? discarding {
            if cut.active.firstSequence == active.firstSequence {
                do {
                    try activeFile.truncate(to: cut.active.bytes)
                    active = cut.active
                    nextSequence = cut.nextSequence
                } catch {
                    configuration.logger.error("cutting \(active.fileName) back to \(cut.active.bytes) bytes failed: \(error); recovery cuts it at the next open")
                }
            } else {
                configuration.logger.error("a failed block of segment \(cut.active.fileName) is left for recovery at the next open")
            }
            afterLastBlock = WriterPosition(active: active, nextSequence: nextSequence)
        }
        syncer.clearFailure()
        if transactionStart != nil {
            try? index.db.execute("ROLLBACK")
            transactionStart = nil
            uncommittedRows = 0
        }
        behind.value = false
        var report = RecoveryReport()
        do {
            try Archive.catchUp(segments: manifest.segments + [active], activeFile: activeFile, segDir: segmentsDirectory,
                                index: index, logger: configuration.logger, report: &report)
            checkpointer.noteCommit()
        } catch {
            configuration.logger.error("indexing the blocks written before the failure failed: \(error); they are indexed at the next open")
        }
    }

    /// Hands the block being built to the syncer with the group's blocks. A block that looks compressible is
    /// encoded here, since its rows must say so; any other is left raw for the syncer's thread to copy and checksum.
    private func flushBlock(_ group: [Request]) throws(ArchiveError) {
        guard !encoder.isEmpty else { return }
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
        let block = PendingBlock(file: activeFile, offset: active.bytes, content: content, before: afterLastBlock)
        groupBlocks.append(block)
        rawPayloadBytes += Int64(encoder.rawSize)
        active.bytes += Int64(block.length)
        active.blocks += 1
        nextSequence += UInt64(encoder.count)
        encoder.removeAll()
        blockRows.removeAll(keepingCapacity: true)
        afterLastBlock = WriterPosition(active: active, nextSequence: nextSequence)
    }

    private func rollIfNeeded(now: UInt32) throws(ArchiveError) {
        let old = active.records > 0 && Int(now) - Int(active.created) >= configuration.segmentMaxAge
        guard active.bytes >= configuration.segmentMaxBytes || old else { return }
        try roll(now: now)
    }

    /// Seals the active segment (sync, manifest) and starts a new one.
    func roll(now: UInt32) throws(ArchiveError) {
        guard active.records > 0 else { return }
        // The segment's blocks encoded so far in this group go first; all of its blocks must be written.
        if !groupBlocks.isEmpty {
            syncer.enqueue(blocks: groupBlocks, sync: false, [], [])
            groupBlocks.removeAll()
        }
        try syncer.waitWritten()
        try activeFile.sync()
        dirty = false
        var sealed = active
        sealed.sealed = true
        var next = manifest
        next.segments.append(sealed)
        next.nextSequence = nextSequence
        try next.store(directory: directory)
        manifest = next
        let (info, file) = try ArchiveWriter.createSegment(segmentsDirectory: segmentsDirectory, firstSequence: nextSequence, created: now)
        active = info
        activeFile = file
        afterLastBlock = WriterPosition(active: active, nextSequence: nextSequence)
        configuration.logger.debug("sealed segment \(sealed.fileName) (\(sealed.records) records, \(sealed.bytes) bytes)")
    }

    static func createSegment(segmentsDirectory: String, firstSequence: UInt64, created: UInt32) throws(ArchiveError) -> (SegmentInfo, SegmentFile) {
        let path = segmentsDirectory + "/" + SegmentFormat.segmentFileName(firstSequence: firstSequence)
        let file = try SegmentFile(path: path, writable: true, create: true)
        let header = SegmentFormat.segmentHeader(firstSequence: firstSequence, created: created)
        try file.write(header, at: 0)
        try file.sync()
        try SegmentFile.syncDirectory(segmentsDirectory)
        let info = SegmentInfo(firstSequence: firstSequence, bytes: Int64(header.count), blocks: 0, records: 0,
                               minSentTime: nil, maxSentTime: nil, created: created, sealed: false)
        return (info, file)
    }
}

/// A Boolean behind a lock, for a flag read by other threads without taking a larger lock.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false

    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
