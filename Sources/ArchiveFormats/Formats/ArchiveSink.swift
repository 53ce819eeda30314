import ArchiveStore
import Whisper

/// Writes into another whisper-archive directory (as its writer), in batches.
public struct ArchiveSink: EnvelopeSink {
    private let archive: Archive
    private let path: String
    private var batch: [Envelope] = []
    private var arrivals: [UInt32] = []

    /// Opens or creates the archive at `path`.
    public init(path: String, configuration: ArchiveConfiguration = ArchiveConfiguration()) throws(FormatError) {
        self.path = path
        do { archive = try Archive(directory: path, configuration: configuration) } catch {
            throw FormatError(.io, path: path, error.description)
        }
    }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        do { batch.append(try envelope.envelope()) } catch { throw FormatError(.invalidRecord, path: path, "\(error)") }
        arrivals.append(envelope.arrival ?? 0)
        if batch.count >= 4096 { try flush() }
    }

    private mutating func flush() throws(FormatError) {
        guard !batch.isEmpty else { return }
        do { _ = try archive.appendAndWait(batch, arrivals: arrivals) } catch { throw FormatError(.io, path: path, error.description) }
        batch.removeAll(keepingCapacity: true)
        arrivals.removeAll(keepingCapacity: true)
    }

    public mutating func finish() throws(FormatError) {
        try flush()
        archive.close()
    }
}
