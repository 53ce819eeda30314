internal import SQLite

extension FormatError {
    /// A failure of SQLite while reading or writing the database at `path`, as an I/O error in SQLite's words.
    init(_ error: SQLiteError, path: String) {
        self.init(.io, path: path, error.description)
    }
}
