internal import SQLite
import Whisper

/// The statements reindex runs on the index: rows rebuilt from the segments into a temporary table, compared
/// with the index, and put in its place.
extension ArchiveIndex {
    /// Runs `body` with writes to temporary tables allowed on a read-only connection (`query_only` off); the
    /// index file itself stays unwritable, since the connection opened it read-only.
    func allowingTemporaryTables<T>(_ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        try sqlite(db.execute("PRAGMA query_only = 0"))
        defer { try? db.execute("PRAGMA query_only = 1") }
        return try body()
    }

    /// Starts a rebuild of the rows of `topics` (or of all): empty temporary tables, dropped by
    /// ``Rebuild/drop()``.
    func beginRebuild(topics: Set<UInt32>?) throws(ArchiveError) -> Rebuild {
        try Rebuild(self, topics: topics)
    }

    /// The rows of a rebuild, in the temporary table `temp.rebuild` beside the index's own.
    final class Rebuild {
        private let index: ArchiveIndex
        private let scoped: Bool
        private let insert: SQLiteStatement
        /// Up to 30 keys (`key ‖ topic`, in hex) of the rows the comparisons found differing.
        private(set) var examples: [String] = []

        fileprivate init(_ index: ArchiveIndex, topics: Set<UInt32>?) throws(ArchiveError) {
            self.index = index
            scoped = topics != nil
            let db = index.db
            try sqlite(
                db.execute(
                    """
                    DROP TABLE IF EXISTS temp.rebuild;
                    CREATE TEMP TABLE rebuild(topic BLOB NOT NULL, key BLOB NOT NULL, seg INTEGER NOT NULL, blk INTEGER NOT NULL,
                        pos INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY (topic, key)) WITHOUT ROWID;
                    DROP TABLE IF EXISTS temp.sel;
                    CREATE TEMP TABLE sel(topic BLOB PRIMARY KEY) WITHOUT ROWID;
                    """
                )
            )
            do throws(SQLiteError) {
                if let topics {
                    let s = try db.prepare("INSERT OR IGNORE INTO temp.sel VALUES (?1)")
                    for t in topics {
                        s.bind(1, blob: topicBytes(t))
                        try s.run()
                    }
                }
                insert = try db.prepare("INSERT OR IGNORE INTO temp.rebuild VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            } catch {
                Self.drop(db)
                throw ArchiveError(error)
            }
        }

        /// Drops the temporary tables.
        func drop() { Self.drop(index.db) }

        private static func drop(_ db: SQLiteDatabase) {
            try? db.execute("DROP TABLE IF EXISTS temp.rebuild; DROP TABLE IF EXISTS temp.sel;")
        }

        /// Adds the row of a record found in the segments, unless its key is there already.
        func add(_ key: EnvelopeKey, location: RecordLocation) throws(ArchiveError) {
            ArchiveIndex.bindRow(insert, key: key, location: location)
            try sqlite(insert.run())
        }

        /// How many rows the rebuild holds.
        func count() throws(ArchiveError) -> Int {
            Int(try sqlite(index.db.scalar("SELECT count(*) FROM temp.rebuild")))
        }

        /// Rebuilt rows the index lacks.
        func countMissing() throws(ArchiveError) -> Int {
            try collect(
                "SELECT r.topic, r.key FROM temp.rebuild r WHERE NOT EXISTS (SELECT 1 FROM main.entries e WHERE e.topic = r.topic AND e.key = r.key)"
            )
        }

        /// Index rows (of the rebuilt topics) that the rebuild lacks.
        func countExtra() throws(ArchiveError) -> Int {
            let scopeE = scoped ? " AND e.topic IN (SELECT topic FROM temp.sel)" : ""
            return try collect(
                "SELECT e.topic, e.key FROM main.entries e WHERE NOT EXISTS (SELECT 1 FROM temp.rebuild r WHERE e.topic = r.topic AND e.key = r.key)"
                    + scopeE
            )
        }

        /// Keys in both whose index row points elsewhere.
        func countMoved() throws(ArchiveError) -> Int {
            try collect(
                """
                SELECT r.topic, r.key FROM temp.rebuild r JOIN main.entries e ON e.topic = r.topic AND e.key = r.key
                WHERE e.seg != r.seg OR e.blk != r.blk OR e.pos != r.pos OR e.len != r.len
                """
            )
        }

        /// Replaces the index's rows of the rebuilt topics (or all) with the rebuilt rows; the topics table and
        /// the high-water mark are the caller's.
        func replaceRows() throws(ArchiveError) {
            let scope = scoped ? " WHERE topic IN (SELECT topic FROM temp.sel)" : ""
            do throws(SQLiteError) {
                try index.db.execute("DELETE FROM main.entries" + scope)
                try index.db.execute("INSERT INTO main.entries SELECT * FROM temp.rebuild")
            } catch { throw ArchiveError(error) }
        }

        /// Counts the rows of a `topic, key` query, keeping the first of them in ``examples``.
        private func collect(_ sql: String) throws(ArchiveError) -> Int {
            do throws(SQLiteError) {
                let s = try index.db.prepare(sql)
                var n = 0
                while try s.step() {
                    n += 1
                    if examples.count < 30 { examples.append((s.blob(1) + s.blob(0)).hex) }
                }
                return n
            } catch { throw ArchiveError(error) }
        }
    }
}
