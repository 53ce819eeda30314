/// A failure of SQLite, with the database file and, when SQLite gave one, its result code.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// The database could not be opened (or created).
        case cannotOpen = "cannot open"
        /// A statement could not be run, prepared or stepped.
        case failed = "failed"
        /// The connection was closed before the call.
        case closed = "closed"
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, in SQLite's words, and the statement concerned.
    public var message: String
    /// The database file.
    public var path: String
    /// SQLite's (extended) result code, when there is one (`SQLITE_CORRUPT` is 11, `SQLITE_NOTADB` 26).
    public var resultCode: Int32?

    /// Creates an error.
    public init(_ code: Code, _ message: String, path: String, resultCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.resultCode = resultCode
    }

    /// The message, and the file after it in brackets unless the message names it.
    public var description: String { message.contains(path) ? message : message + " [\(path)]" }
}
