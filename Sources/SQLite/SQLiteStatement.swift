internal import CSQLite

/// A compiled SQLite statement; bind, step, read columns, reset.
public final class SQLiteStatement: @unchecked Sendable {
    /// The connection that compiled the statement.
    public let database: SQLiteDatabase
    let handle: OpaquePointer
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(database: SQLiteDatabase, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and clears its bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds an integer to parameter `index` (1-based).
    public func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Binds a blob (copied) to parameter `index`.
    public func bind<C: Collection>(_ index: Int32, blob value: C) where C.Element == UInt8 {
        let done: Void? = value.withContiguousStorageIfAvailable { p in
            sqlite3_bind_blob(handle, index, p.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(p.count), SQLiteStatement.transient)
        }.map { _ in () }
        if done == nil {
            let a = Array(value)
            a.withUnsafeBufferPointer { p in
                _ = sqlite3_bind_blob(handle, index, p.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(p.count), SQLiteStatement.transient)
            }
        }
    }

    /// Binds a blob without copying it: the memory must stay valid and unchanged until the statement is reset.
    public func bindStatic(_ index: Int32, _ value: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(handle, index, value.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(value.count), nil)
    }

    /// Binds text to parameter `index`.
    public func bind(_ index: Int32, text value: String) {
        sqlite3_bind_text(handle, index, value, -1, SQLiteStatement.transient)
    }

    /// Binds NULL to parameter `index`.
    public func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    /// Advances; true when a row is available.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.error("SQL step failed", rc)
    }

    /// Steps to completion, resets, and returns the number of changed rows.
    @discardableResult
    public func run() throws(SQLiteError) -> Int {
        defer { sqlite3_reset(handle) }
        while try step() {}
        return database.changes
    }

    /// An integer column (0-based).
    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// True when the column is NULL.
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// A blob column, copied.
    public func blob(_ column: Int32) -> [UInt8] {
        withBlob(column) { Array($0.bindMemory(to: UInt8.self)) }
    }

    /// Reads a blob column in place; the buffer is valid only inside `body`.
    public func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(handle, column)
        let n = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n))
    }

    /// A text column.
    public func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: p)
    }
}
