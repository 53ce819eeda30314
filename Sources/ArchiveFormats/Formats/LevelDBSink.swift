import ArchiveStore

/// Writes a status-go mailserver LevelDB: key = the 40-byte DBKey, value = the envelope RLP.
public struct LevelDBSink: EnvelopeSink {
    private let db: LevelDBDatabase
    private var batch: [([UInt8], [UInt8])] = []

    /// Creates (or opens) the database directory `path`.
    public init(path: String) throws(FormatError) { db = try LevelDBDatabase(path: path, create: true) }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        batch.append((envelope.key.bytes, envelope.rlp))
        if batch.count >= 1000 { try db.write(batch); batch.removeAll(keepingCapacity: true) }
    }

    public mutating func finish() throws(FormatError) {
        if !batch.isEmpty { try db.write(batch); batch.removeAll() }
    }
}
