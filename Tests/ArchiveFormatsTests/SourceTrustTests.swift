import ArchiveFormats
import ArchiveStore
import Foundation
import SQLite
import TestSupport
import Testing
import Whisper

/// What a user holding evidence relies on: `import` never changes one byte, timestamp or file of a source, also
/// when the source is really read-only (a read-only mount, or an unprivileged user and files 0444, dirs 0555).
@Suite("Sources are read-only")
struct SourceTrustTests {

    static let sources = ["rlp", "rlp.lz4", "jsonl", "jsonl.lz4", "sqlite", "sqlite-wal", "sqlite-journal", "leveldb"]
    static let count = 60

    /// Writes a source of `kind` into the new directory `dir/evidence` and returns the path to import.
    static func makeSource(_ kind: String, in dir: String) async throws -> String {
        let evidence = dir + "/evidence"
        try FileManager.default.createDirectory(atPath: evidence, withIntermediateDirectories: true)
        let envs = FormatFixtures.envelopes(count, seed: 9)
        switch kind {
        case "leveldb":
            // Closed without compaction: the rows are still in the .log, which libleveldb replays (and deletes) on open.
            FormatFixtures.writeLevelDB(at: evidence + "/mailserver", entries: envs.map { ($0.key.bytes, $0.rlp) })
            return evidence + "/mailserver"
        case "sqlite-journal":
            // Seized mid-transaction: a hot -journal beside the file (uncommitted pages spilled into it). It is rolled
            // back in a private copy; the source keeps both files as they were.
            let live = dir + "/live"
            try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
            let db = try SQLiteDatabase(path: live + "/mail.sqlite")
            try db.execute("PRAGMA journal_mode=DELETE")
            try db.execute("CREATE TABLE envelopes (id BLOB PRIMARY KEY, data BLOB NOT NULL, topic BLOB NOT NULL, bloom BLOB NOT NULL)")
            let insert = try db.prepare("INSERT INTO envelopes (id, data, topic, bloom) VALUES (?1, ?2, ?3, ?4)")
            func add(_ list: [Envelope]) throws {
                for e in list {
                    insert.bind(1, blob: e.key.bytes)
                    insert.bind(2, blob: e.rlp)
                    insert.bind(3, blob: e.topic.bytes)
                    insert.bind(4, blob: e.topic.bloom.bytes)
                    _ = try insert.run()
                }
            }
            try db.execute("BEGIN")
            try add(envs)
            try db.execute("COMMIT")
            try db.execute("PRAGMA cache_size=10")
            try db.execute("BEGIN")
            try add(FormatFixtures.envelopes(3000, seed: 10))
            for suffix in ["", "-journal"] {
                try FileManager.default.copyItem(atPath: live + "/mail.sqlite" + suffix, toPath: evidence + "/mail.sqlite" + suffix)
            }
            try db.execute("ROLLBACK")
            let journal = try FileManager.default.attributesOfItem(atPath: evidence + "/mail.sqlite-journal")[.size] as? Int ?? 0
            #expect(journal > 0, "a hot journal")
            return evidence + "/mail.sqlite"
        case "sqlite-wal":
            // status-go keeps its database in WAL mode: committed rows still in the -wal, beside its -shm.
            let live = dir + "/live"
            try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
            let db = try SQLiteDatabase(path: live + "/accounts.sqlite")
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0")
            try db.execute("CREATE TABLE envelopes (id BLOB PRIMARY KEY, data BLOB NOT NULL, topic BLOB NOT NULL, bloom BLOB NOT NULL)")
            let insert = try db.prepare("INSERT INTO envelopes (id, data, topic, bloom) VALUES (?1, ?2, ?3, ?4)")
            for e in envs {
                insert.bind(1, blob: e.key.bytes)
                insert.bind(2, blob: e.rlp)
                insert.bind(3, blob: e.topic.bytes)
                insert.bind(4, blob: e.topic.bloom.bytes)
                _ = try insert.run()
            }
            // Seized while status-go had it open.
            for suffix in ["", "-wal", "-shm"] {
                try FileManager.default.copyItem(atPath: live + "/accounts.sqlite" + suffix, toPath: evidence + "/accounts.sqlite" + suffix)
            }
            let wal = try FileManager.default.attributesOfItem(atPath: evidence + "/accounts.sqlite-wal")[.size] as? Int ?? 0
            #expect(wal > 0, "the -wal holds the rows")
            _ = insert
            return evidence + "/accounts.sqlite"
        default:
            let a = try Archive(directory: dir + "/origin")
            _ = try await a.append(envs, arrivals: envs.map { _ in 0 })
            let format: ArchiveFormat = kind.hasPrefix("rlp") ? .rlp : kind.hasPrefix("jsonl") ? .jsonl : .sqlite
            let path = evidence + "/mail." + kind
            _ = try await Exporter.run(store: a, filter: .all, format: format, path: path)
            a.close()
            return path
        }
    }

    static func imported(_ r: CLI.Result) -> Int? {
        guard let line = r.stdout.split(separator: "\n").last,
            let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { return nil }
        return json["imported"] as? Int
    }

    @Test(arguments: sources)
    func importLeavesTheSourceUnchanged(kind: String) async throws {
        let dir = try FormatFixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try await Self.makeSource(kind, in: dir)
        let evidence = dir + "/evidence"
        let before = try DirectorySnapshot(evidence)
        let r = try await CLI.run(["import", "--archive", dir + "/a", "--json", source])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.imported(r) == Self.count, "\(r.stdout)")
        let after = try DirectorySnapshot(evidence)
        #expect(after.entries == before.entries, "before:\n\(before)\nafter:\n\(after)")
        #expect(after.contents == before.contents)
    }

    @Test(arguments: sources)
    func importWorksOnAReadOnlySource(kind: String) async throws {
        let dir = try FormatFixtures.tempDir()
        defer {
            try? DirectorySnapshot.setReadOnly(dir + "/evidence", false)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let source = try await Self.makeSource(kind, in: dir)
        let evidence = dir + "/evidence"
        try DirectorySnapshot.setReadOnly(evidence, true)
        // The archive is written by whoever runs the import (perhaps the unprivileged user).
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        chmod(out, 0o777)
        let before = try DirectorySnapshot(evidence)
        guard let r = try await CLI.runReadOnly(evidence, ["import", "--archive", out + "/a", "--json", source]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.imported(r) == Self.count, "\(r.stdout) \(r.stderr)")
        let after = try DirectorySnapshot(evidence)
        #expect(after.entries == before.entries, "before:\n\(before)\nafter:\n\(after)")
        #expect(after.contents == before.contents)
    }

    @Test func missingAndUnreadableSourcesAreDifferentErrors() async throws {
        let dir = try FormatFixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try await Self.makeSource("rlp", in: dir)
        chmod(source, 0)
        defer { chmod(source, 0o644) }
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        chmod(out, 0o777)
        let missing = try await CLI.run(["import", "--archive", out + "/a", dir + "/evidence/nothing.rlp"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file or directory: \(dir)/evidence/nothing.rlp"), "\(missing.stderr)")
        if getuid() == 0 {
            let setpriv = URL(fileURLWithPath: "/usr/bin/setpriv")
            guard FileManager.default.isExecutableFile(atPath: setpriv.path) else {
                print("SKIPPED: no setpriv to read as an unprivileged user; the permission error is not tested")
                return
            }
            let denied = try await CLI.tool(
                setpriv,
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path,
                    "import", "--archive", out + "/b", source,
                ]
            )
            #expect(denied.status == 1)
            #expect(denied.stderr.contains("permission denied: \(source)"), "\(denied.stderr)")
        } else {
            let denied = try await CLI.run(["import", "--archive", out + "/b", source])
            #expect(denied.status == 1)
            #expect(denied.stderr.contains("permission denied: \(source)"), "\(denied.stderr)")
        }
    }

    @Test func notADatabaseIsSaidInPlainWords() async throws {
        let dir = try FormatFixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: dir + "/x.sqlite"))
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let sqlite = try await CLI.run(["import", "--archive", dir + "/a", dir + "/x.sqlite"])
        #expect(sqlite.status == 1 && sqlite.stderr.contains("not a SQLite database: \(dir)/x.sqlite"), "\(sqlite.stderr)")
        let leveldb = try await CLI.run(["import", "--archive", dir + "/a", "--format", "leveldb", dir + "/empty"])
        #expect(leveldb.status == 1 && leveldb.stderr.contains("not a LevelDB database (no CURRENT): \(dir)/empty"), "\(leveldb.stderr)")
    }

    @Test func importWithARejectedRecordExits1() async throws {
        let dir = try FormatFixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = FormatFixtures.envelopes(5).flatMap(\.rlp)
        bytes.removeLast(3)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/t.rlp"))
        let r = try await CLI.run(["import", "--archive", dir + "/a", dir + "/t.rlp"])
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stdout.contains("imported 4, duplicates 0, rejected 1"), "\(r.stdout)")
        let again = try await CLI.run(["import", "--archive", dir + "/b", dir + "/t.rlp", "--json"])
        #expect(again.status == 1)
        // Every record imported or a duplicate: 0.
        try Data(FormatFixtures.envelopes(5).flatMap(\.rlp)).write(to: URL(fileURLWithPath: dir + "/ok.rlp"))
        let ok = try await CLI.run(["import", "--archive", dir + "/a", dir + "/ok.rlp"])
        #expect(ok.status == 0 && ok.stdout.contains("imported 1, duplicates 4, rejected 0"), "\(ok.stdout) \(ok.stderr)")
    }
}
