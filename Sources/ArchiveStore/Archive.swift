import Foundation
import Logging
import SystemErrorText
import Whisper

/// An archive directory: append-only segments (the truth) and a SQLite index (derived).
///
/// Open it as the single writer (which takes `DIR/LOCK`, recovers a torn tail and catches the index up),
/// or as a reader beside a running writer:
///
/// ```swift
/// let archive = try Archive(directory: "/var/lib/mail", configuration: .init())
/// let result = try await archive.append(envelopes)
/// let page = try archive.query(EnvelopeFilter(from: t0, to: t1, topics: .list([topic])), limit: 1000)
/// archive.close()
/// ```
public final class Archive: @unchecked Sendable {
    /// The archive directory.
    public let directory: String
    /// How it was opened.
    public let configuration: ArchiveConfiguration
    /// What opening repaired (for a reader: only index rows added when no writer was running).
    public let recovery: RecoveryReport

    private var lock: ArchiveLock?
    /// A reader's shared hold on the lock file, when no writer ran at open: no writer starts while it reads.
    private var readerLock: ReaderLock?
    /// How this archive's read connections open the index.
    let indexAccess: IndexAccess
    let writer: ArchiveWriter?
    let readers: SegmentReaders
    private let poolLock = NSLock()
    /// Shared by reads that go from index rows to records; exclusive while compaction swaps segments.
    let swapLock = ReadWriteLock()
    /// Serialises compactions of this archive.
    let compactionLock = NSLock()
    private var pool: [ArchiveIndex] = []
    private var closed = false

    var segmentsDirectory: String { directory + "/segments" }
    var indexPath: String { directory + "/" + ArchiveIndex.fileName }
    var logger: Logger { configuration.logger }

    /// Opens (or creates) the archive at `directory`.
    ///
    /// - Throws: ``ArchiveError`` with code `.locked` ("archive DIR is in use by process N") when another
    ///   writer holds the lock; `.corrupt` or `.unsupportedVersion` when the layout cannot be read.
    public init(directory: String, configuration: ArchiveConfiguration = ArchiveConfiguration()) throws(ArchiveError) {
        self.directory = directory
        self.configuration = configuration
        readers = SegmentReaders(directory: directory + "/segments")
        switch configuration.mode {
        case .reader:
            // A reader writes nothing: no lock file, no index catch-up, no -wal or -shm (see IndexAccess).
            guard let manifest = try Manifest.load(directory: directory) else {
                throw ArchiveError(.io, Archive.notAnArchive(directory), path: directory)
            }
            guard manifest.format == SegmentFormat.version else {
                throw ArchiveError(
                    .unsupportedVersion,
                    "archive format \(manifest.format) is not supported (this build reads format \(SegmentFormat.version))",
                    path: directory + "/MANIFEST"
                )
            }
            if manifest.pending != nil {
                throw ArchiveError(
                    .corrupt,
                    "a repair of \(directory) was interrupted after its commit; open the archive as a writer "
                        + "(verify --repair, serve or import) to finish it",
                    path: directory + "/MANIFEST"
                )
            }
            lock = nil
            writer = nil
            var report = RecoveryReport()
            switch WriterPresence.probe(directory: directory) {
            case .writerRunning:
                readerLock = nil
                indexAccess = .shared(path: directory + "/" + ArchiveIndex.fileName)
                _ = try indexAccess.open()
            case .noWriter(let held):
                readerLock = held
                indexAccess = try Archive.readerIndexAccess(
                    directory: directory,
                    manifest: manifest,
                    configuration: configuration,
                    report: &report
                )
            }
            recovery = report
        case .writer:
            try Archive.prepareWriterDirectory(directory, create: configuration.createIfMissing)
            let lock = try ArchiveLock(directory: directory)
            var manifest: Manifest
            if let m = try Manifest.load(directory: directory) {
                manifest = m
            } else {
                manifest = Manifest(format: SegmentFormat.version, segments: [])
                try manifest.store(directory: directory)
            }
            guard manifest.format == SegmentFormat.version else {
                throw ArchiveError(
                    .unsupportedVersion,
                    "archive format \(manifest.format) is not supported (this build reads format \(SegmentFormat.version))",
                    path: directory + "/MANIFEST"
                )
            }
            var report = RecoveryReport()
            if manifest.pending != nil {
                try Archive.completePendingRenames(directory: directory, manifest: &manifest, logger: configuration.logger)
            } else {
                Archive.removeRepairLeftovers(directory: directory, logger: configuration.logger, report: &report)
            }
            let index = try ArchiveIndex(path: directory + "/" + ArchiveIndex.fileName, readOnly: false)
            let (active, file, next) = try Archive.recover(
                directory: directory,
                manifest: &manifest,
                index: index,
                configuration: configuration,
                report: &report
            )
            let w = ArchiveWriter(
                directory: directory,
                configuration: configuration,
                index: index,
                manifest: manifest,
                active: active,
                activeFile: file,
                nextSequence: next
            )
            w.start()
            self.lock = lock
            self.writer = w
            self.recovery = report
            readerLock = nil
            indexAccess = .shared(path: directory + "/" + ArchiveIndex.fileName)
        }
    }

    deinit { if !closed { writer?.close() } }

    /// Drains pending appends, syncs, and releases the lock. Further appends fail.
    public func close() {
        poolLock.lock()
        let wasClosed = closed
        closed = true
        pool.removeAll()
        poolLock.unlock()
        if !wasClosed {
            writer?.close()
            poolLock.lock()
            lock = nil
            readerLock = nil
            poolLock.unlock()
        }
    }

    // MARK: appending

    /// Appends a batch and blocks the calling thread until it is acknowledged (not for use on the concurrency pool).
    public func appendAndWait(_ envelopes: [Envelope], arrivals: [UInt32]? = nil) throws(ArchiveError) -> AppendResult {
        try enqueue(envelopes, arrivals: arrivals).wait()
    }

    /// Queues a batch and returns at once; the batch is acknowledged through the returned ``PendingAppend`` once its
    /// blocks are written (and, with `--sync always`, fsynced) and indexed.
    ///
    /// Batches queued one after another are stored and acknowledged in that order, so a caller can keep several
    /// in flight (reading the next while the last ones are synced) and await them in turn. Concurrent batches
    /// share one fsync. Envelopes already stored (same hash) are counted as duplicates.
    public func enqueue(_ envelopes: [Envelope], arrivals: [UInt32]? = nil) throws(ArchiveError) -> PendingAppend {
        guard let writer else { throw ArchiveError(.readOnly, "the archive at \(directory) is open for reading only") }
        let pending = PendingAppend()
        if envelopes.isEmpty {
            pending.complete(.success(AppendResult()))
            return pending
        }
        try Self.validateBatch(envelopes, arrivals: arrivals)
        writer.submit(.init(envelopes: envelopes, arrivals: arrivals) { pending.complete($0) })
        return pending
    }

    /// Checked before a batch reaches the writer, so that a bad batch fails alone rather than the group it would join.
    static func validateBatch(_ envelopes: [Envelope], arrivals: [UInt32]?) throws(ArchiveError) {
        if let arrivals, arrivals.count != envelopes.count {
            throw ArchiveError(.invalidArgument, "arrivals must have one entry per envelope")
        }
        for e in envelopes where e.rlp.count + SegmentFormat.recordHeaderLength > SegmentFormat.maxBlockPayload {
            throw ArchiveError(.invalidEnvelope, "an envelope of \(e.rlp.count) bytes exceeds the block limit")
        }
    }

    // MARK: reading

    func withIndex<T>(_ body: (ArchiveIndex) throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        // The writer's rows not yet committed become visible first, so a read sees every acknowledged append.
        try writer?.publishIndex()
        poolLock.lock()
        if closed {
            poolLock.unlock()
            throw ArchiveError(.closed, "the archive is closed")
        }
        let idx = pool.popLast()
        poolLock.unlock()
        let index: ArchiveIndex
        if let idx { index = idx } else { index = try indexAccess.open() }
        defer {
            poolLock.lock()
            if !closed { pool.append(index) }
            poolLock.unlock()
        }
        return try body(index)
    }

    /// The number of stored envelopes.
    public func count() throws(ArchiveError) -> Int { try withIndex { (i) throws(ArchiveError) in try i.count() } }

    /// The stored envelope with this key, if any.
    public func envelope(for key: EnvelopeKey) throws(ArchiveError) -> ArchivedEnvelope? {
        try swapLock.withReadLock { () throws(ArchiveError) -> ArchivedEnvelope? in
            let loc = try withIndex { (i) throws(ArchiveError) in try i.location(of: key) }
            guard let loc else { return nil }
            let (rlp, arrival) = try readers.read(loc)
            return ArchivedEnvelope(rlp: rlp, sentTime: key.sentTime, topic: key.topic, arrival: arrival, hash: key.hash)
        }
    }

    /// True when an envelope with this hash, sent time and topic is stored.
    public func contains(_ envelope: Envelope) throws(ArchiveError) -> Bool {
        try withIndex { (i) throws(ArchiveError) in
            try i.location(of: envelope.key) != nil
        }
    }

    /// The topics stored, with their envelope counts and sent-time ranges.
    public func topics() throws(ArchiveError) -> [(topic: Topic, count: Int, sentTimes: ClosedRange<UInt32>)] {
        try withIndex { (i) throws(ArchiveError) in
            try i.allTopics().map { (Topic(rawValue: $0.topic), $0.stats.count, $0.stats.minSent...max($0.stats.minSent, $0.stats.maxSent)) }
        }
    }

    /// The segments: sealed ones from the manifest, then the active one (writer) or the unsealed files (reader).
    ///
    /// The manifest is authoritative: a reader takes unlisted files only at or above its floor (the active
    /// segment), never leftovers of an interrupted compaction.
    public func segments() throws(ArchiveError) -> [SegmentInfo] {
        if let writer { return writer.segments }
        let manifest = try Manifest.load(directory: directory) ?? Manifest(format: SegmentFormat.version, segments: [])
        var out = manifest.segments
        let sealed = Set(out.map(\.firstSequence))
        let floor = manifest.activeFloor
        for first in try Archive.listSegments(segmentsDirectory) where !sealed.contains(first) && first >= floor {
            let size = (try? SegmentFile(path: readers.path(first), writable: false).size()) ?? 0
            out.append(SegmentInfo(firstSequence: first, bytes: size, blocks: 0, records: 0, created: 0, sealed: false))
        }
        return out
    }

    /// Raw and stored payload bytes written by this writer since open: the real LZ4 effect.
    public var compressionTotals: (raw: Int64, stored: Int64) { writer?.payloadTotals ?? (0, 0) }

    /// The fsyncs this archive's writer has run so far to make acknowledged appends durable with `--sync always`:
    /// concurrent appends share one (group commit). 0 without a writer. `bench store` gives the plain file as many.
    public var groupSyncCount: Int { writer?.groupSyncCount ?? 0 }

    static func listSegments(_ dir: String) throws(ArchiveError) -> [UInt64] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw ArchiveError(.io, "cannot list segments: \(SystemErrorText.words(error))", path: dir)
        }
        return names.compactMap(SegmentFormat.parseSegmentFileName).sorted()
    }
}

/// A queued append (``EnvelopeStore/enqueue(_:arrivals:)``): its outcome, handed over by the engine (the writer's
/// threads, for ``Archive``) once the batch is acknowledged, to one caller that awaits it or blocks for it.
public final class PendingAppend: @unchecked Sendable {
    private let condition = NSCondition()
    private var outcome: Result<AppendResult, ArchiveError>?
    private var waiter: CheckedContinuation<Result<AppendResult, ArchiveError>, Never>?

    /// An append not yet acknowledged.
    package init() {}

    /// Hands the outcome to the caller; an engine calls it once.
    package func complete(_ result: Result<AppendResult, ArchiveError>) {
        condition.lock()
        let waiting = waiter
        waiter = nil
        outcome = result
        condition.broadcast()
        condition.unlock()
        waiting?.resume(returning: result)
    }

    /// Waits, without blocking a thread, until the batch is acknowledged.
    public func value() async throws(ArchiveError) -> AppendResult {
        let result: Result<AppendResult, ArchiveError> = await withCheckedContinuation { continuation in
            condition.lock()
            if let outcome {
                condition.unlock()
                continuation.resume(returning: outcome)
            } else {
                waiter = continuation
                condition.unlock()
            }
        }
        return try result.get()
    }

    /// Blocks the calling thread until the batch is acknowledged (not for use on the concurrency pool).
    public func wait() throws(ArchiveError) -> AppendResult {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return try outcome!.get()
    }
}
