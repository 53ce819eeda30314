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

    /// Opens a database input (a ``ArchiveFormat/postgres`` URL) as a store, read only; the importer closes it.
    /// Without it, such an input is unreadable.
    public var openStore: ((String) async throws -> any EnvelopeStore)?

    /// An importer into `store`.
    public init(store: any EnvelopeStore) { self.store = store }

    /// Imports `paths` (each in `format`, or detected).
    ///
    /// - Throws: ``FormatError`` for a missing or unreadable input (after importing the inputs before it);
    ///   ``ArchiveError`` when the store fails.
    public func run(paths: [String], format: ArchiveFormat?) async throws -> Summary {
        var run = Run(importer: self)
        for path in paths {
            let f: ArchiveFormat
            do throws(FormatError) {
                if let format { f = format } else { f = try ArchiveFormat.detect(path: path) }
            } catch {
                onInvalid(error)
                run.summary.unreadableFiles += 1
                if strict {
                    run.summary.stopped = true
                    break
                }
                continue
            }
            let finished = f.isStore ? try await run.importStore(path) : try await run.importFile(path, format: f)
            if !finished { break }
        }
        return try await run.finish()
    }

    /// Copies every envelope of `source` that matches `filter` into the store, in key order, a page at a time with
    /// several batches in flight. Envelopes already there are counted as duplicates, so a second run after an
    /// interrupted one finishes the copy without storing anything twice.
    public func copy(from source: any EnvelopeStore, filter: EnvelopeFilter = .all) async throws -> Summary {
        var run = Run(importer: self)
        run.summary.files = 1
        _ = try await run.copy(from: source, filter: filter)
        return try await run.finish()
    }

    /// One import: the running summary and the appends in flight.
    private struct Run {
        let importer: Importer
        var summary = Summary()
        let start = Date()
        var acknowledged = 0
        /// Queued appends with the input records each covers, oldest first.
        var queued: [(append: PendingAppend, records: Int)] = []
        var batch: [Envelope] = []
        /// Explicit: a source that keeps no arrival times stores 0 ("unknown"), never the time of the import.
        var arrivals: [UInt32] = []
        var records = 0

        init(importer: Importer) { self.importer = importer }

        /// Waits for the oldest appends until at most `keeping` are in flight, acknowledging each.
        mutating func settle(keeping: Int) async throws {
            while queued.count > max(0, keeping) {
                let (append, records) = queued.removeFirst()
                let r = try await append.value()
                summary.imported += r.added
                summary.duplicates += r.duplicates
                acknowledged += records
                summary.seconds = Date().timeIntervalSince(start)
                importer.onBatch(summary, acknowledged)
            }
        }

        /// Queues the batch being filled.
        mutating func flush() async throws {
            guard !batch.isEmpty else { return }
            do {
                queued.append((try importer.store.enqueue(batch, arrivals: arrivals), records))
            } catch {
                // The batches before it are acknowledged (or fail) first.
                try await settle(keeping: 0)
                throw error
            }
            records = 0
            batch.removeAll(keepingCapacity: true)
            arrivals.removeAll(keepingCapacity: true)
            try await settle(keeping: importer.batchesInFlight - 1)
        }

        mutating func add(_ envelope: Envelope, arrival: UInt32?) async throws {
            batch.append(envelope)
            arrivals.append(arrival ?? 0)
            if batch.count >= importer.batchSize { try await flush() }
        }

        /// Counts an invalid record; false when `--strict` stops the import here.
        mutating func reject(_ error: FormatError) async throws -> Bool {
            summary.rejected += 1
            importer.onInvalid(error)
            guard importer.strict else { return true }
            try await flush()
            try await settle(keeping: 0)
            summary.stopped = true
            return false
        }

        /// Imports one file; false when the import stops.
        mutating func importFile(_ path: String, format: ArchiveFormat) async throws -> Bool {
            var source: any EnvelopeSource
            do throws(FormatError) {
                source = try format.source(path: path)
            } catch {
                return try await unreadable(error)
            }
            summary.files += 1
            let baseBytes = summary.bytes
            while let item = try source.next() {
                records += 1
                switch item {
                case .envelope(let e, let arrival):
                    if batch.count + 1 >= importer.batchSize { summary.bytes = baseBytes + source.bytesRead }
                    try await add(e, arrival: arrival)
                case .invalid(let error):
                    guard try await reject(error) else {
                        summary.bytes = baseBytes + source.bytesRead
                        return false
                    }
                }
            }
            summary.bytes = baseBytes + source.bytesRead
            try await flush()
            return true
        }

        /// Imports a database input through ``Importer/openStore``; false when the import stops.
        mutating func importStore(_ path: String) async throws -> Bool {
            guard let open = importer.openStore else {
                return try await unreadable(FormatError(.unsupported, path: path, "this importer cannot open databases"))
            }
            let source = try await open(path)
            summary.files += 1
            do {
                let finished = try await copy(from: source, filter: .all)
                await source.close()
                return finished
            } catch {
                await source.close()
                throw error
            }
        }

        /// Reads `source` page by page into batches; false when the import stops.
        mutating func copy(from source: any EnvelopeStore, filter: EnvelopeFilter) async throws -> Bool {
            var cursor: Cursor?
            repeat {
                var page: [ArchivedEnvelope] = []
                cursor = try await source.query(filter, limit: importer.batchSize, after: cursor) { page.append($0) }.cursor
                for stored in page {
                    records += 1
                    summary.bytes += Int64(stored.rlp.count)
                    do {
                        try await add(try stored.envelope(), arrival: stored.arrival)
                    } catch let error as WhisperError {
                        let key = stored.key.description
                        guard try await reject(FormatError(.invalidRecord, path: source.location, key: key, error.description)) else { return false }
                    }
                }
            } while cursor != nil
            try await flush()
            return true
        }

        /// Counts an input that cannot be read at all; false when `--strict` stops the import here.
        mutating func unreadable(_ error: FormatError) async throws -> Bool {
            importer.onInvalid(error)
            summary.unreadableFiles += 1
            guard importer.strict else { return true }
            summary.stopped = true
            return false
        }

        /// Waits for every append in flight; the summary.
        mutating func finish() async throws -> Summary {
            try await flush()
            try await settle(keeping: 0)
            summary.seconds = Date().timeIntervalSince(start)
            return summary
        }
    }
}
