import Foundation
import SQLite
import TestSupport
import Testing

@Suite("SQLite wrapper")
final class SQLiteDatabaseTests {
    /// A fresh directory for each test, removed after it.
    private let dir: String
    init() throws { dir = try CLI.temporaryDirectory("wa-sqlite").path }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    @Test("every call after close() throws .closed, naming the file; changes reads 0")
    func closedConnection() throws {
        let path = dir + "/db.sqlite"
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        #expect(db.changes == 1)
        db.close()
        db.close()
        #expect(db.changes == 0)
        let calls: [(String, () throws -> Void)] = [
            ("execute", { try db.execute("SELECT 1") }),
            ("prepare", { _ = try db.prepare("SELECT 1") }),
            ("scalar", { _ = try db.scalar("SELECT count(*) FROM t") }),
            ("transaction", { try db.transaction { () throws(SQLiteError) in } }),
            ("checkpoint", { try db.checkpoint(.passive) }),
        ]
        for (name, call) in calls {
            do {
                try call()
                Issue.record("\(name) after close() did not throw")
            } catch let error as SQLiteError {
                #expect(error.code == .closed, "\(name)")
                #expect(error.resultCode == nil, "\(name)")
                #expect(error.path == path && error.description.contains(path), "\(name): \(error)")
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }

    @Test("a read-only open of a missing file fails, naming the file, and creates nothing")
    func missingFileReadOnly() throws {
        let path = dir + "/missing.sqlite"
        for immutable in [false, true] {
            do throws(SQLiteError) {
                _ = try SQLiteDatabase(path: path, readOnly: true, immutable: immutable)
                Issue.record("opened a missing file (immutable: \(immutable))")
            } catch {
                #expect(error.code == .cannotOpen)
                #expect(error.resultCode != nil)
                #expect(error.description == "cannot open SQLite database: unable to open database file [\(path)]")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test("a failing statement reports SQLite's message, the statement and the result code")
    func failedStatement() throws {
        let path = dir + "/db.sqlite"
        let db = try SQLiteDatabase(path: path)
        do throws(SQLiteError) {
            try db.execute("SELECT * FROM nowhere")
            Issue.record("a query of a missing table succeeded")
        } catch {
            #expect(error.code == .failed)
            #expect(error.resultCode == 1)
            #expect(error.message == "SQL failed: SELECT * FROM nowhere: no such table: nowhere (SQLite code 1)")
        }
    }

    @Test(
        "an immutable open reads a file whose path holds URI characters, and leaves nothing beside it",
        arguments: ["a?b.sqlite", "c#d.sqlite", "e%3f.sqlite", "f%g h.sqlite"]
    )
    func immutableOpenOfAwkwardPath(name: String) throws {
        let path = dir + "/" + name
        do {
            let db = try SQLiteDatabase(path: path)
            try db.execute("PRAGMA journal_mode = WAL; CREATE TABLE t(x); INSERT INTO t VALUES (7)")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [name])
        let reader = try SQLiteDatabase(path: path, immutable: true)
        #expect(try reader.scalar("SELECT x FROM t") == 7)
        #expect(throws: SQLiteError.self) { try reader.execute("INSERT INTO t VALUES (8)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [name])
        // A path that begins with "//" would be a URI authority.
        let doubled = "/" + path
        #expect(try SQLiteDatabase(path: doubled, immutable: true).scalar("SELECT x FROM t") == 7)
    }

    @Test("transaction commits what its body did, and rolls it back when the body throws")
    func transaction() throws {
        let db = try SQLiteDatabase(path: dir + "/db.sqlite")
        try db.execute("CREATE TABLE t(x)")
        try db.transaction { () throws(SQLiteError) in try db.execute("INSERT INTO t VALUES (1)") }
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try db.transaction(mapError: { _ in Refused() }) { () throws(Refused) in
                try? db.execute("INSERT INTO t VALUES (2)")
                throw Refused()
            }
        }
        #expect(try db.scalar("SELECT group_concat(x) FROM t") == 1)
        // BEGIN inside an open transaction fails: the failure comes through mapError.
        try db.execute("BEGIN")
        #expect(throws: Refused.self) { try db.transaction(mapError: { _ in Refused() }) { () throws(Refused) in } }
        try db.execute("ROLLBACK")
    }

    @Test("checkpoint copies the log back and reports its frames; -1 outside WAL mode")
    func checkpoint() throws {
        let db = try SQLiteDatabase(path: dir + "/db.sqlite")
        #expect(try db.checkpoint(.passive) == -1)
        try db.execute("PRAGMA journal_mode = WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        #expect(try db.checkpoint(.passive) > 0)
        #expect(try db.checkpoint(.restart) > 0)
    }
}
