import ArchiveStore
import Foundation

/// Writes the envelopes of a store that match a filter into a sink.
public enum Exporter {
    /// Totals of an export.
    public struct Summary: Sendable, Codable {
        /// Envelopes written.
        public var exported = 0
        /// RLP bytes written.
        public var bytes: Int64 = 0
        /// Wall-clock seconds.
        public var seconds = 0.0
        /// Damaged bytes skipped (their envelopes are missing from the output).
        public var damaged: [DamagedBlock] = []
        /// Megabytes (10^6) of RLP per second.
        public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1e6 : 0 }
    }

    /// Exports to `path` in `format`, in storage order; `progress` is called every 1,000 envelopes. Damaged
    /// blocks are skipped (with a warning on the store's logger) and listed in the summary. A file output appears
    /// only when the export succeeds; an existing one is replaced only when `replacing` is true (see ``OutputFile``).
    public static func run(
        store: any EnvelopeStore,
        filter: EnvelopeFilter,
        format: ArchiveFormat,
        path: String,
        replacing: Bool = false,
        progress: (Summary) -> Void = { _ in }
    ) async throws -> Summary {
        var sink = try format.sink(path: path, replacing: replacing)
        var summary = Summary()
        let start = Date()
        summary.damaged = try await store.scan(filter, order: .storage) { e in
            try sink.write(e)
            summary.exported += 1
            summary.bytes += Int64(e.rlp.count)
            if summary.exported % 1_000 == 0 {
                summary.seconds = Date().timeIntervalSince(start)
                progress(summary)
            }
        }
        try sink.finish()
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}
