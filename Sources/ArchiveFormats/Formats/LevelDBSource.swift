import EthCrypto
import Whisper

/// Reads a status-go (40-byte keys) or go-ethereum (36-byte keys) mailserver LevelDB: value = envelope RLP.
public struct LevelDBSource: EnvelopeSource {
    private let iterator: LevelDBIterator
    private let path: String
    private var bytes: Int64 = 0

    /// Opens the database directory `path` for reading; not one byte of it changes: libleveldb is given a
    /// private copy in a temporary directory, removed when the source is released.
    public init(path: String) throws(FormatError) {
        self.path = path
        iterator = LevelDBIterator(try LevelDBDatabase(readingCopyOf: path))
    }

    public var bytesRead: Int64 { bytes }

    public mutating func next() throws(FormatError) -> SourceItem? {
        guard let (key, value) = try iterator.next() else { return nil }
        bytes += Int64(key.count + value.count)
        guard key.count == 40 || key.count == 36 else {
            return .invalid(
                FormatError(
                    .invalidRecord,
                    path: path,
                    key: key.hex,
                    "a key of \(key.count) bytes (expected 40 for status-go or 36 for go-ethereum)"
                )
            )
        }
        let envelope: Envelope
        do { envelope = try Envelope(rlp: value) } catch {
            return .invalid(FormatError(.invalidRecord, path: path, key: key.hex, error.description))
        }
        guard Array(envelope.key.bytes.prefix(key.count)) == key else {
            return .invalid(
                FormatError(
                    .invalidRecord,
                    path: path,
                    key: key.hex,
                    "the key does not match the envelope (expected \(envelope.key.bytes.prefix(key.count).map { $0 }.hex))"
                )
            )
        }
        return .envelope(envelope, arrival: nil)
    }
}
