import ArchiveStore

/// Writes a status-go mailserver LevelDB: key = the 40-byte DBKey, value = the envelope RLP.
public struct LevelDBSink: EnvelopeSink {
    private let db: LevelDBDatabase
    private var batch: [([UInt8], [UInt8])] = []

    /// Creates the database directory `path`, or adds to the LevelDB database there; a directory that is neither
    /// empty nor a LevelDB database (no CURRENT), or a file, is refused.
    public init(path: String) throws(FormatError) {
        switch try FileProbe.kind(path) {
        case nil: break
        case .directory?:
            if try FileProbe.kind(path + "/CURRENT") == nil, !(try FileProbe.names(inDirectory: path).isEmpty) {
                throw FormatError(.unsupported, path: path, headline: "not empty and not a LevelDB database (no CURRENT)")
            }
        case .regular?, .special?:
            throw FormatError(.unsupported, path: path, headline: "not a directory (a LevelDB output is a directory)")
        }
        db = try LevelDBDatabase(creatingAt: path)
    }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        batch.append((envelope.key.bytes, envelope.rlp))
        if batch.count >= 1000 {
            try db.write(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }

    public mutating func finish() throws(FormatError) {
        if !batch.isEmpty {
            try db.write(batch)
            batch.removeAll()
        }
    }
}
