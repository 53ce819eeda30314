import ArchiveStore
import Whisper

/// Reads another whisper-archive directory (opened as a reader), in storage order, keeping arrival times.
public struct ArchiveSource: EnvelopeSource {
    private let archive: Archive
    private var iterator: ArchiveRecordIterator
    private let path: String
    private var bytes: Int64 = 0

    /// Opens the archive at `path` for reading.
    public init(path: String) throws(FormatError) {
        self.path = path
        do {
            archive = try Archive(directory: path, configuration: .reader)
            iterator = try archive.records()
        } catch {
            throw FormatError(error.code == .io ? .missingFile : .io, path: path, error.description)
        }
    }

    public var bytesRead: Int64 { bytes }

    public mutating func next() throws(FormatError) -> SourceItem? {
        let item: ArchivedEnvelope?
        do { item = try iterator.next() } catch { throw FormatError(.io, path: path, error.description) }
        guard let item else { return nil }
        bytes += Int64(item.rlp.count)
        do { return .envelope(try item.envelope(), arrival: item.arrival) } catch {
            return .invalid(FormatError(.invalidRecord, path: path, "record \(item.sequence ?? 0): \(error)"))
        }
    }
}
