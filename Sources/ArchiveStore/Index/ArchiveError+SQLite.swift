internal import SQLite

extension ArchiveError {
    /// The store's error for a failure of SQLite on the index: `.closed` for a closed connection, `.index`
    /// otherwise, with SQLite's message and the index file.
    init(_ error: SQLiteError) {
        switch error.code {
        case .closed: self.init(.closed, "the index connection is closed", path: error.path)
        case .cannotOpen, .failed: self.init(.index, error.message, path: error.path)
        }
    }
}

/// One call on the index's SQLite connection, its failure reported as ``ArchiveError``: `try sqlite(s.step())`.
///
/// A run of calls goes in `do throws(SQLiteError) { … } catch { throw ArchiveError(error) }` instead.
@discardableResult
func sqlite<T>(_ call: @autoclosure () throws(SQLiteError) -> T) throws(ArchiveError) -> T {
    do { return try call() } catch { throw ArchiveError(error) }
}
