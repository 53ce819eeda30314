internal import SQLite

/// Transactions and the writer's connection settings: callers name what they want, the SQL stays here.
extension ArchiveIndex {
    /// Runs `body` inside one transaction of the index (`BEGIN IMMEDIATE`, or a deferred `BEGIN` when not
    /// `immediate`), rolling back if it throws.
    func transaction<T>(immediate: Bool = true, _ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        try db.transaction(immediate: immediate, mapError: ArchiveError.init, body)
    }

    /// Opens the writer's transaction, taking the write lock at once (`BEGIN IMMEDIATE`).
    func beginWriteTransaction() throws(ArchiveError) {
        try sqlite(db.execute("BEGIN IMMEDIATE"))
    }

    /// Commits the open transaction.
    func commit() throws(ArchiveError) {
        try sqlite(db.execute("COMMIT"))
    }

    /// Rolls the open transaction back.
    func rollback() throws(ArchiveError) {
        try sqlite(db.execute("ROLLBACK"))
    }

    /// Settings for the writer's connection: no checkpoints inside commits (the checkpointer's thread runs them),
    /// the log cut back to 64 MiB whenever it starts over, and a 64 MiB page cache.
    ///
    /// A second of rows changes the last index page of every topic it touches. Beyond the cache, SQLite writes
    /// changed pages to the log before the commit and reads them back for the next row, which over many topics
    /// costs more than the larger cache. Each setting is tried on its own: one that fails leaves the others.
    func tuneForWriter() {
        try? db.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864")
        try? db.execute("PRAGMA cache_size = -65536")
    }

    /// Copies the log back into the index file and empties it (`wal_checkpoint(TRUNCATE)`): at rest the index is
    /// one file.
    func checkpoint() throws(ArchiveError) {
        try sqlite(db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    }
}
