import Dispatch
import Whisper

/// The embedded engine behind the store API. `enqueue`, `query(_:limit:after:each:)`, `scan`, `count` and
/// `close` are ``Archive``'s own calls; retention runs through compaction.
extension Archive: EnvelopeStore {
    /// The archive directory.
    public var location: String { directory }

    /// Retention through ``applyRetention(before:dropTopics:dryRun:)``, run on a dispatch thread: it reads and
    /// rewrites segment files, which no task of the concurrency pool should wait for.
    public func expire(sentBefore cutoff: UInt32) async throws(ArchiveError) -> RetentionReport {
        let result: Result<CompactionReport, ArchiveError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(ArchiveError) in try self.applyRetention(before: cutoff) })
            }
        }
        let r = try result.get()
        return RetentionReport(
            removed: r.envelopesRemoved,
            kept: r.envelopesKept,
            detail: "(\(r.expired) expired, \(r.duplicates) duplicates), \(r.bytesRemoved) bytes; "
                + "\(r.segmentsDropped) segments dropped, \(r.segmentsRewritten) rewritten"
        )
    }
}
