import Foundation

/// The last stage of the writer: syncs the files of written groups and acknowledges the groups in order (one
/// `fdatasync` per file for every group written while the previous sync ran).
final class SyncAcknowledger: QueueThread<SyncAcknowledger.Entry>, @unchecked Sendable {
    /// A written group, waiting for its sync and its acknowledgement.
    struct Entry {
        /// The files the group's blocks went to.
        var files: [SegmentFile]
        /// Sync the files before acknowledging.
        var sync: Bool
        /// The write failure that fails the group, if any.
        var error: ArchiveError?
        var completions: [BlockWriter.Completion]
        var results: [Result<AppendResult, ArchiveError>]
    }

    private var syncs = 0
    private let metrics = StoreMetrics()

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
        return isIdleLocked
    }

    func start() { start(name: "whisper-archive.sync-acknowledger") }

    /// Takes written groups, to be synced (where they ask for it) and acknowledged after those passed before.
    func pass(_ more: [Entry]) {
        condition.lock()
        appendLocked(more)
        condition.unlock()
    }

    /// Syncs each file of the batch's groups once and then acknowledges the groups in order.
    override func process(_ batch: [Entry]) -> () -> Void {
        var outcome: [ObjectIdentifier: ArchiveError?] = [:]
        for entry in batch where entry.sync && entry.error == nil {
            for file in entry.files where outcome[ObjectIdentifier(file)] == nil {
                do throws(ArchiveError) {
                    try metrics.timedSync { () throws(ArchiveError) in try file.sync() }
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
        return {}
    }
}
