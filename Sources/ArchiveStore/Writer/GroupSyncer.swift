import Foundation

/// Acknowledges groups of appends in the order they were written, each once the blocks it wrote are durable.
///
/// The writer thread hands a group over right after committing its index rows; this thread runs one `fdatasync`
/// for every group waiting at that moment (group commit) and then calls their completions, while the writer thread
/// already builds the next group.
final class GroupSyncer: ConditionThread, @unchecked Sendable {
    typealias Completion = @Sendable (Result<AppendResult, ArchiveError>) -> Void

    private struct Job {
        /// The file to sync first; nil for a group that wrote nothing (it still waits for the groups before it).
        var file: SegmentFile?
        var completions: [Completion]
        var results: [Result<AppendResult, ArchiveError>]
    }

    private var jobs: [Job] = []
    /// True while a taken batch is being synced and acknowledged.
    private var busy = false
    /// fsyncs run so far.
    private var syncs = 0

    /// fsyncs run so far: one per file for each set of groups that waited together.
    var syncCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return syncs
    }

    func start() { start(name: "whisper-archive.sync") }

    /// Acknowledges the group once `file` is synced.
    func enqueue(file: SegmentFile, _ completions: [Completion], _ results: [Result<AppendResult, ArchiveError>]) {
        condition.lock()
        jobs.append(Job(file: file, completions: completions, results: results))
        condition.signal()
        condition.unlock()
    }

    /// Acknowledges a group that needs no sync of its own, after every group handed over before it
    /// (a duplicate must not be reported stored before the envelope it duplicates is durable).
    func afterPending(_ completions: [Completion], _ results: [Result<AppendResult, ArchiveError>]) {
        condition.lock()
        if jobs.isEmpty && !busy {
            condition.unlock()
            for (c, r) in zip(completions, results) { c(r) }
            return
        }
        jobs.append(Job(file: nil, completions: completions, results: results))
        condition.signal()
        condition.unlock()
    }

    /// Syncs and acknowledges everything handed over; returns once stopped with nothing left.
    override func loop() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            busy = true
            condition.unlock()
            var outcome: [ObjectIdentifier: ArchiveError?] = [:]
            for job in batch {
                guard let f = job.file, outcome[ObjectIdentifier(f)] == nil else { continue }
                do throws(ArchiveError) {
                    try f.sync()
                    outcome[ObjectIdentifier(f)] = .some(nil)
                } catch {
                    outcome[ObjectIdentifier(f)] = error
                }
            }
            // Counted before the acknowledgements, so that an appender sees its own fsync counted.
            condition.lock()
            syncs += outcome.count
            condition.unlock()
            for job in batch {
                let failure = job.file.flatMap { outcome[ObjectIdentifier($0)] ?? nil }
                for (c, r) in zip(job.completions, job.results) { c(failure.map { .failure($0) } ?? r) }
            }
            condition.lock()
            busy = false
        }
        condition.unlock()
    }
}
