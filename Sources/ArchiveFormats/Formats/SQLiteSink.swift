import ArchiveStore
import Foundation

/// Writes status-go's PostgreSQL schema carried over to SQLite: `envelopes(id, data, topic, bloom)`.
public struct SQLiteSink: EnvelopeSink {
    private let path: String
    private let db: SQLiteDatabase
    private let insert: SQLiteStatement
    private var pending = 0

    /// Creates (replaces) the database file at `path`.
    public init(path: String) throws(FormatError) {
        self.path = path
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        do {
            db = try SQLiteDatabase(path: path)
            try db.execute("""
                CREATE TABLE envelopes (
                    id BLOB PRIMARY KEY,
                    data BLOB NOT NULL,
                    topic BLOB NOT NULL,
                    bloom BLOB NOT NULL
                );
                CREATE INDEX id_topic_idx ON envelopes (id DESC, topic);
                CREATE INDEX topic_idx ON envelopes (topic);
                BEGIN;
                """)
            insert = try db.prepare("INSERT OR IGNORE INTO envelopes (id, data, topic, bloom) VALUES (?1, ?2, ?3, ?4)")
        } catch {
            throw FormatError(.io, path: path, "cannot create the database: \(error)")
        }
    }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        insert.bind(1, blob: envelope.key.bytes)
        insert.bind(2, blob: envelope.rlp)
        insert.bind(3, blob: envelope.topic.bytes)
        insert.bind(4, blob: envelope.topic.bloom.bytes)
        do {
            try insert.run()
            pending += 1
            if pending >= 10_000 { try db.execute("COMMIT; BEGIN;"); pending = 0 }
        } catch { throw FormatError(.io, path: path, "\(error)") }
    }

    public mutating func finish() throws(FormatError) {
        do { try db.execute("COMMIT") } catch { throw FormatError(.io, path: path, "\(error)") }
    }
}
