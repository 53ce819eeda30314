import Whisper

/// The store API: every call that MailServer, ArchiveFormats, ArchiveAudit and the CLI's `serve`, `import`,
/// `export` and `audit` make on the envelopes they keep, whatever engine keeps them.
///
/// ``Archive`` (the segmented log with its SQLite index) is the embedded engine. A second engine implements the
/// same calls with the same promises, and the callers cannot tell them apart. The operations that belong to the
/// segmented log (verify, repair, reindex, compaction's rewrite, the block check) are not part of this protocol;
/// they stay on ``Archive``.
///
/// Calls may come from any task or thread at once. An engine does not block an event loop.
public protocol EnvelopeStore: AnyObject, Sendable {
    /// Where the envelopes are, for logs and messages: a directory, or a database URL without its password.
    var location: String { get }

    /// Queues a batch and returns at once; the returned ``PendingAppend`` completes once the whole batch is
    /// durable, so that an acknowledged envelope survives a crash.
    ///
    /// Batches queued one after another are stored and acknowledged in that order. An envelope already stored
    /// (same hash) is counted as a duplicate and stored once, also when two writers store it at the same time.
    /// - Parameter arrivals: per-envelope arrival times (Unix seconds), or nil for now.
    func enqueue(_ envelopes: [Envelope], arrivals: [UInt32]?) throws(ArchiveError) -> PendingAppend

    /// One page of the envelopes matching `filter`, in ascending key order (sent time, then hash), strictly after
    /// `cursor`, each handed to `body` as soon as it is read.
    ///
    /// - Parameter limit: at most this many envelopes (≥ 1).
    /// - Returns: a page without envelopes: its `cursor` is set only when more matching envelopes remain, and
    ///   `damaged` lists what was skipped as unreadable.
    func query(
        _ filter: EnvelopeFilter,
        limit: Int,
        after cursor: Cursor?,
        each body: (ArchivedEnvelope) -> Void
    ) async throws(ArchiveError) -> QueryPage

    /// Calls `body` for every envelope matching `filter`, in `order`.
    ///
    /// - Returns: what was skipped as unreadable (each also logged as a warning).
    func scan(
        _ filter: EnvelopeFilter,
        order: ScanOrder,
        _ body: (ArchivedEnvelope) throws -> Void
    ) async throws -> [DamagedBlock]

    /// The number of envelopes stored, without reading them (metrics poll it).
    func count() async throws(ArchiveError) -> Int

    /// Removes every envelope sent before `cutoff` (Unix seconds): the retention that `serve --retention-days`
    /// runs. An interrupted run leaves the envelopes either kept or removed, never half of one.
    func expire(sentBefore cutoff: UInt32) async throws(ArchiveError) -> RetentionReport

    /// Stores what is queued, makes it durable and releases the store. Later calls fail with ``ArchiveError/Code/closed``.
    func close() async
}

extension EnvelopeStore {
    /// Appends a batch; returns once the whole batch is durable (see ``enqueue(_:arrivals:)``).
    public func append(_ envelopes: [Envelope], arrivals: [UInt32]? = nil) async throws(ArchiveError) -> AppendResult {
        try await enqueue(envelopes, arrivals: arrivals).value()
    }
}

/// The order of a scan.
public enum ScanOrder: Sendable {
    /// The order records were stored in (fastest; for export and audit).
    case storage
    /// Ascending (sent time, hash), as queries return them.
    case key
}

/// What a retention run removed and kept.
public struct RetentionReport: Sendable, Equatable {
    /// Envelopes removed.
    public var removed: Int
    /// Envelopes kept.
    public var kept: Int
    /// The engine's own account of the work, for the log (for the segmented log: expired and duplicate records,
    /// bytes, segments dropped and rewritten).
    public var detail: String

    /// A report.
    public init(removed: Int, kept: Int, detail: String) {
        self.removed = removed
        self.kept = kept
        self.detail = detail
    }
}
