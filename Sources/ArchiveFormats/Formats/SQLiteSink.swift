import ArchiveStore
import Foundation
internal import SQLite

/// Writes status-go's PostgreSQL schema carried over to SQLite: `envelopes(id, data, topic, bloom)`.
///
/// The database is built in a temporary file beside `path` and renamed over it by ``finish()``, so a failed
/// export leaves no partial database and an existing one untouched.
public struct SQLiteSink: EnvelopeSink {
    private let path: String
    private let output: OutputFile
    private var db: SQLiteDatabase?
    private var insert: SQLiteStatement?
    private var pending = 0

    /// Creates the database file at `path`; an existing one is replaced (on success) only when `replacing`.
    public init(path: String, replacing: Bool = false) throws(FormatError) {
        self.path = path
        output = try OutputFile(path: path, replacing: replacing, use: .database)
        let db: SQLiteDatabase
        do {
            db = try SQLiteDatabase(path: output.stagedPath)
            try db.execute(
                """
                CREATE TABLE envelopes (
                    id BLOB PRIMARY KEY,
                    data BLOB NOT NULL,
                    topic BLOB NOT NULL,
                    bloom BLOB NOT NULL
                );
                CREATE INDEX id_topic_idx ON envelopes (id DESC, topic);
                CREATE INDEX topic_idx ON envelopes (topic);
                BEGIN;
                """
            )
            insert = try db.prepare("INSERT OR IGNORE INTO envelopes (id, data, topic, bloom) VALUES (?1, ?2, ?3, ?4)")
            self.db = db
        } catch {
            throw FormatError(.io, path: path, "cannot create the database: \(error)")
        }
    }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        guard let db, let insert else { throw FormatError(.io, path: path, "the database is already finished") }
        insert.bind(1, blob: envelope.key.bytes)
        insert.bind(2, blob: envelope.rlp)
        insert.bind(3, blob: envelope.topic.bytes)
        insert.bind(4, blob: envelope.topic.bloom.bytes)
        do {
            try insert.run()
            pending += 1
            if pending >= 10_000 {
                try db.execute("COMMIT; BEGIN;")
                pending = 0
            }
        } catch { throw FormatError(error, path: path) }
    }

    public mutating func finish() throws(FormatError) {
        guard db != nil else { return }
        do { try db?.execute("COMMIT") } catch { throw FormatError(error, path: path) }
        // Closes the connection before the file is renamed.
        insert = nil
        db = nil
        // The journals of the file being replaced belong to it, not to the new database.
        for suffix in ["-wal", "-shm", "-journal"] { unlink(output.target + suffix) }
        try output.commit()
    }
}
