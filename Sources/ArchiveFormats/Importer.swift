import ArchiveStore
import Foundation
import Whisper

/// Moves envelopes from sources into an archive in batches; invalid records are skipped and reported.
///
/// Arrival times are carried over where the source keeps them (an archive, jsonl with `arrival`); otherwise the
/// record stores 0, "unknown" (docs/FORMAT.md).
public struct Importer {
    /// Totals of an import.
    public struct Summary: Sendable, Codable {
        /// Envelopes newly stored.
        public var imported = 0
        /// Envelopes already present.
        public var duplicates = 0
        /// Records skipped as invalid.
        public var rejected = 0
        /// Bytes read from the inputs (as stored).
        public var bytes: Int64 = 0
        /// Wall-clock seconds.
        public var seconds = 0.0
        /// Envelopes read per second.
        public var rate: Double { seconds > 0 ? Double(imported + duplicates) / seconds : 0 }
        /// Files read.
        public var files = 0
        /// Inputs that could not be opened at all (missing file, unknown format).
        public var unreadableFiles = 0
        /// True when `--strict` stopped the import at an invalid record.
        public var stopped = false

        public init() {}

        enum CodingKeys: String, CodingKey { case imported, duplicates, rejected, bytes, seconds, rate, files, unreadableFiles, stopped }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(imported, forKey: .imported)
            try c.encode(duplicates, forKey: .duplicates)
            try c.encode(rejected, forKey: .rejected)
            try c.encode(bytes, forKey: .bytes)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(rate, forKey: .rate)
            try c.encode(files, forKey: .files)
            try c.encode(unreadableFiles, forKey: .unreadableFiles)
            try c.encode(stopped, forKey: .stopped)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            imported = try c.decode(Int.self, forKey: .imported)
            duplicates = try c.decode(Int.self, forKey: .duplicates)
            rejected = try c.decode(Int.self, forKey: .rejected)
            bytes = try c.decode(Int64.self, forKey: .bytes)
            seconds = try c.decode(Double.self, forKey: .seconds)
            files = try c.decode(Int.self, forKey: .files)
            unreadableFiles = try c.decode(Int.self, forKey: .unreadableFiles)
            stopped = try c.decode(Bool.self, forKey: .stopped)
        }
    }

    /// The store written to.
    public var store: any EnvelopeStore
    /// Envelopes per append.
    public var batchSize = 2048
    /// Appends queued at once: the next batch is read and hashed while the ones before it are synced. They are
    /// acknowledged (``onBatch``) in input order.
    public var batchesInFlight = 4
    /// Stop at the first invalid record (what was imported before it stays).
    public var strict = false
    /// Called for each invalid record.
    public var onInvalid: (FormatError) -> Void = { _ in }
    /// Called after each acknowledged batch with the running summary and the number of input records acknowledged so far.
    public var onBatch: (Summary, Int) -> Void = { _, _ in }

    /// An importer into `store`.
    public init(store: any EnvelopeStore) { self.store = store }

    /// Imports `paths` (each in `format`, or detected).
    ///
    /// - Throws: ``FormatError`` for a missing or unreadable input (after importing the inputs before it);
    ///   ``ArchiveError`` when the store fails.
    public func run(paths: [String], format: ArchiveFormat?) async throws -> Summary {
        var summary = Summary()
        let start = Date()
        var acknowledged = 0
        // Queued appends with the input records each covers, oldest first.
        var queued: [(append: PendingAppend, records: Int)] = []
        func settle(keeping: Int) async throws {
            while queued.count > max(0, keeping) {
                let (append, records) = queued.removeFirst()
                let r = try await append.value()
                summary.imported += r.added
                summary.duplicates += r.duplicates
                acknowledged += records
                summary.seconds = Date().timeIntervalSince(start)
                onBatch(summary, acknowledged)
            }
        }
        for path in paths {
            var source: any EnvelopeSource
            do throws(FormatError) {
                let f: ArchiveFormat
                if let format { f = format } else { f = try ArchiveFormat.detect(path: path) }
                source = try f.source(path: path)
            } catch {
                onInvalid(error)
                summary.unreadableFiles += 1
                if strict { summary.stopped = true; break }
                continue
            }
            summary.files += 1
            var batch: [Envelope] = []
            // Explicit: a source that keeps no arrival times stores 0 ("unknown"), never the time of the import.
            var arrivals: [UInt32] = []
            var records = 0
            func flush() async throws {
                guard !batch.isEmpty else { return }
                do {
                    queued.append((try store.enqueue(batch, arrivals: arrivals), records))
                } catch {
                    // The batches before it are acknowledged (or fail) first.
                    try await settle(keeping: 0)
                    throw error
                }
                records = 0
                batch.removeAll(keepingCapacity: true)
                arrivals.removeAll(keepingCapacity: true)
                try await settle(keeping: batchesInFlight - 1)
            }
            let baseBytes = summary.bytes
            while let item = try source.next() {
                records += 1
                switch item {
                case .envelope(let e, let arrival):
                    batch.append(e)
                    arrivals.append(arrival ?? 0)
                    if batch.count >= batchSize {
                        summary.bytes = baseBytes + source.bytesRead
                        try await flush()
                    }
                case .invalid(let error):
                    summary.rejected += 1
                    onInvalid(error)
                    if strict {
                        try await flush()
                        try await settle(keeping: 0)
                        summary.stopped = true
                        summary.bytes = baseBytes + source.bytesRead
                        summary.seconds = Date().timeIntervalSince(start)
                        return summary
                    }
                }
            }
            summary.bytes = baseBytes + source.bytesRead
            try await flush()
        }
        try await settle(keeping: 0)
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}
