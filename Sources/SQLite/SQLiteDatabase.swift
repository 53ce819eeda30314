internal import CSQLite

/// A thin wrapper over one SQLite connection (the C API), used by the archive's index, the `sqlite` format and
/// `bench store`.
///
/// A connection is used by one thread at a time; the class serialises nothing itself.
public final class SQLiteDatabase: @unchecked Sendable {
    let handle: OpaquePointer
    /// The database file.
    public let path: String

    /// Opens (and by default creates) the database at `path`.
    ///
    /// - Parameter immutable: read-only, and the file is taken not to change while open: SQLite takes no lock
    ///   and creates no `-wal`, `-shm` or `-journal` file (a log left beside it is not read).
    /// - Throws: ``SQLiteError`` `.cannotOpen` with SQLite's message and result code.
    public init(path: String, readOnly: Bool = false, create: Bool = true, immutable: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX
        flags |= readOnly || immutable ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
        var name = path
        if immutable {
            flags |= SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?mode=ro&immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(.cannotOpen, "cannot open SQLite database: \(message)", path: path, resultCode: rc)
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 10_000)
    }

    private var isOpen = true

    deinit { close() }

    private var closedError: SQLiteError { SQLiteError(.closed, "the SQLite connection is closed", path: path) }

    /// Closes the connection now rather than when the last reference goes (not thread-safe: the owner's thread).
    /// A statement still alive keeps SQLite's handle until it is released; every later call fails.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        sqlite3_close_v2(handle)
    }

    /// A path as the path part of a `file:` URI: `%`, `?` and `#` percent-encoded.
    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for c in path.unicodeScalars {
            switch c {
            case "%": out += "%25"
            case "?": out += "%3f"
            case "#": out += "%23"
            default: out.unicodeScalars.append(c)
            }
        }
        // A path that starts with "//" would be read as an authority.
        return out.hasPrefix("//") ? "/." + out : out
    }

    func error(_ what: String, _ rc: Int32) -> SQLiteError {
        SQLiteError(.failed, "\(what): \(String(cString: sqlite3_errmsg(handle))) (SQLite code \(rc))", path: path, resultCode: rc)
    }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        guard isOpen else { throw closedError }
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error("SQL failed: \(sql.prefix(80))", rc) }
    }

    /// Compiles a statement.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        guard isOpen else { throw closedError }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error("cannot prepare \(sql.prefix(80))", rc) }
        return SQLiteStatement(database: self, handle: stmt)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { isOpen ? Int(sqlite3_changes(handle)) : 0 }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT` (or a deferred `BEGIN`, which a read-only connection can
    /// run for its temporary tables), rolling back if it throws.
    public func transaction<T>(immediate: Bool = true, _ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try transaction(immediate: immediate, mapError: { $0 }, body)
    }

    /// Runs `body`, which fails with errors of its own, inside a transaction as above; a failure of `BEGIN` or
    /// `COMMIT` is thrown as `mapError` makes it.
    public func transaction<T, E: Error>(
        immediate: Bool = true,
        mapError: (SQLiteError) -> E,
        _ body: () throws(E) -> T
    ) throws(E) -> T {
        do throws(SQLiteError) { try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN") } catch { throw mapError(error) }
        let value: T
        do throws(E) { value = try body() } catch {
            try? execute("ROLLBACK")
            throw error
        }
        do throws(SQLiteError) { try execute("COMMIT") } catch {
            try? execute("ROLLBACK")
            throw mapError(error)
        }
        return value
    }

    /// The value of a single-integer query (0 when there is no row).
    public func scalar(_ sql: String) throws(SQLiteError) -> Int64 {
        let s = try prepare(sql)
        return try s.step() ? s.int64(0) : 0
    }

    /// How far ``checkpoint(_:)`` goes.
    public enum CheckpointMode: Sendable {
        /// Copies what it can without waiting for readers or writers (`SQLITE_CHECKPOINT_PASSIVE`).
        case passive
        /// Waits for the writer, copies the whole log and has the next writer start it over
        /// (`SQLITE_CHECKPOINT_RESTART`).
        case restart
    }

    /// Copies the write-ahead log back into the database file; returns the frames (pages) in the log, or -1 when
    /// the checkpoint could not run (another one is running, or the database is not in WAL mode).
    @discardableResult
    public func checkpoint(_ mode: CheckpointMode) throws(SQLiteError) -> Int {
        guard isOpen else { throw closedError }
        var logFrames: Int32 = -1
        sqlite3_wal_checkpoint_v2(handle, nil, mode == .passive ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_RESTART, &logFrames, nil)
        return Int(logFrames)
    }
}
