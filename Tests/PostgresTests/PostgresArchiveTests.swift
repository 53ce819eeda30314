import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// The PostgreSQL engine from the outside: the built binary against a real server (scripts/pg-cluster), each test
/// in a database of its own.
@Suite("PostgreSQL archive", .enabled(if: TestPostgres.available))
struct PostgresArchiveTests {
    static let topics = [Topic(rawValue: 0xF26E_7779), Topic(rawValue: 0x8F9A_2B7D), Topic(rawValue: 0x0102_0304)]

    /// `count` envelopes sent within the last hour, over three topics.
    static func envelopes(_ count: Int, seed: UInt64 = 1) -> [Envelope] {
        let now = currentUnixTime()
        return (0..<count).map { i in
            let sent = now - 3600 + UInt32(i % 3000)
            return Envelope(
                expiry: sent + 60,
                ttl: 60,
                topic: topics[i % topics.count],
                data: SecureRandom.bytes(100 + i % 300),
                nonce: seed << 32 | UInt64(i)
            )
        }
    }

    /// The envelopes' RLP in key order: what an export of any engine holding exactly them must be.
    static func keyOrdered(_ envelopes: [Envelope]) -> [UInt8] {
        envelopes.sorted { $0.key < $1.key }.flatMap(\.rlp)
    }

    static func hashes(jsonl: String) -> [String] {
        jsonl.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: "\"hash\":\"0x") else { return nil }
            return String(line[r.upperBound...].prefix(64))
        }
    }

    /// status-go's insert, statement for statement: the bloom inlined as a bit literal, 8 characters per byte,
    /// most significant bit first (whisper-mailserver.md §6.2).
    static func statusGoInsert(_ e: Envelope) -> String {
        let bits = e.bloom.bytes.map { b -> String in
            let s = String(b, radix: 2)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
        return "INSERT INTO envelopes (id, data, topic, bloom) VALUES ('\\x\(e.key.bytes.hex)', '\\x\(e.rlp.hex)', "
            + "'\\x\(e.topic.bytes.hex)', B'\(bits)'::bit(512)) ON CONFLICT (id) DO NOTHING;\n"
    }

    static func write(_ bytes: [UInt8], in dir: URL, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test("import into an empty database creates status-go's schema; export returns the envelopes in key order")
    func importCreatesTheSchemaAndExportReturnsEverything() async throws {
        let db = try await TestPostgres.newDatabase()
        let dir = try CLI.temporaryDirectory("wa-pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let envs = Self.envelopes(300)
        let input = try Self.write(envs.flatMap(\.rlp), in: dir, "in.rlp")

        let first = try await CLI.run(["import", "--archive", db, input, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("\"imported\":300"), "\(first.stdout)")
        let again = try await CLI.run(["import", "--archive-url", db, input, "--json"])
        #expect(again.stdout.contains("\"imported\":0") && again.stdout.contains("\"duplicates\":300"), "\(again.stdout)")

        // status-go's table, indexes and migration record, with the bloom column as status-go writes it.
        let columns = try await TestPostgres.sql(
            db,
            """
            SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'envelopes'::regclass AND attnum > 0 AND NOT attisdropped
            """
        )
        #expect(columns == "id bytea, data bytea, topic bytea, bloom bit(512)")
        let indexes = try await TestPostgres.sql(
            db,
            "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'envelopes'"
        )
        #expect(indexes == "envelopes_id_key id_bloom_idx id_topic_idx topic_idx whisper_archive_topic_id_idx")
        #expect(try await TestPostgres.sql(db, "SELECT version || ' ' || dirty FROM schema_migrations") == "1557732988 false")
        let e = envs[0]
        let bloom = try await TestPostgres.sql(db, "SELECT bloom::text FROM envelopes WHERE id = '\\x\(e.key.bytes.hex)'")
        #expect(bloom == String(Self.statusGoInsert(e).split(separator: "B'")[1].prefix(512)))

        let out = dir.appendingPathComponent("out.rlp")
        let x = try await CLI.run(["export", "--archive", db, "--format", "rlp", "--output", out.path])
        #expect(x.status == 0, "\(x.stderr)")
        #expect(Array(try Data(contentsOf: out)) == Self.keyOrdered(envs))

        // audit reads the database as it reads an archive directory.
        let audit = try await CLI.run(["audit", "--archive", db, "--json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(audit.stdout.contains("\"envelopes\" : 300"), "\(audit.stdout.prefix(300))")
    }

    @Test("a database made by status-go's migration and filled by its insert is served, and imports to an identical export")
    func statusGoDatabaseIsServedAndImported() async throws {
        let db = try await TestPostgres.newDatabase("statusgo")
        let dir = try CLI.temporaryDirectory("wa-pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let migration = try String(
            contentsOf: Vectors.repositoryRoot.appendingPathComponent("Tests/Fixtures/status-go/1557732988_initialize_db.up.sql"),
            encoding: .utf8
        )
        try await TestPostgres.sql(db, migration)
        let envs = Self.envelopes(120, seed: 2)
        try await TestPostgres.sql(db, envs.map(Self.statusGoInsert).joined())
        let fingerprint = "SELECT md5(string_agg(encode(id, 'hex') || encode(data, 'hex') || bloom::text, ',' ORDER BY id)) FROM envelopes"
        let before = try await TestPostgres.sql(db, fingerprint)

        // Imported read only: the database, its schema and its row count stay as status-go left them.
        let archive = dir.appendingPathComponent("archive").path
        let imported = try await CLI.run(["import", "--archive", archive, "--format", "postgres", db, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"imported\":120"), "\(imported.stdout)")
        #expect(try await TestPostgres.sql(db, fingerprint) == before)
        #expect(try await TestPostgres.sql(db, "SELECT count(*) FROM pg_class WHERE relname LIKE 'whisper_archive%'") == "0")
        let out = dir.appendingPathComponent("out.rlp")
        _ = try await CLI.run(["export", "--archive", archive, "--format", "rlp", "--output", out.path])
        #expect(Array(try Data(contentsOf: out)) == Self.keyOrdered(envs))

        // Served as it is (this engine adds its index and counter), page by page.
        let key = dir.appendingPathComponent("node.key").path
        _ = try await CLI.run(["keygen", "--output", key])
        let server = try await ServerProcess(archiveArgument: db, arguments: ["--password", "pw", "--node-key", key])
        defer { server.terminate() }
        let r = try await CLI.run(["request", "--peer", server.enode, "--password", "pw", "--all", "--limit", "25", "--from", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.hashes(jsonl: r.stdout).sorted() == envs.map { $0.hash.hex }.sorted())
        #expect(try await TestPostgres.sql(db, fingerprint) == before)
    }

    @Test("leveldb → postgres → archive → rlp equals the leveldb's envelopes byte for byte; the source is unchanged")
    func roundTripFromLevelDBThroughPostgres() async throws {
        let db = try await TestPostgres.newDatabase()
        let dir = try CLI.temporaryDirectory("wa-pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Vectors.repositoryRoot.appendingPathComponent("Samples/mail-leveldb")
        let snapshot = try DirectorySnapshot(source.path)

        let direct = dir.appendingPathComponent("direct")
        _ = try await CLI.run(["import", "--archive", direct.path, "--format", "leveldb", source.path])
        let expected = dir.appendingPathComponent("expected.rlp")
        _ = try await CLI.run(["export", "--archive", direct.path, "--format", "rlp", "--output", expected.path])

        let toPostgres = try await CLI.run(["import", "--archive", db, "--format", "leveldb", source.path])
        #expect(toPostgres.status == 0, "\(toPostgres.stderr)")
        let archive = dir.appendingPathComponent("archive")
        let back = try await CLI.run(["export", "--archive", db, "--format", "archive", "--output", archive.path])
        #expect(back.status == 0, "\(back.stderr)")
        let out = dir.appendingPathComponent("out.rlp")
        _ = try await CLI.run(["export", "--archive", archive.path, "--format", "rlp", "--output", out.path])
        let got = try Data(contentsOf: out)
        #expect(!got.isEmpty)
        #expect(got == (try Data(contentsOf: expected)))
        #expect(try DirectorySnapshot(source.path) == snapshot)
    }

    @Test("export into a database that holds some of the envelopes adds only the missing ones, and says so")
    func exportAddsOnlyTheMissingEnvelopes() async throws {
        let db = try await TestPostgres.newDatabase()
        let dir = try CLI.temporaryDirectory("wa-pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let envs = Self.envelopes(200, seed: 3)
        let archive = dir.appendingPathComponent("archive").path
        _ = try await CLI.run(["import", "--archive", archive, try Self.write(envs.flatMap(\.rlp), in: dir, "all.rlp")])
        _ = try await CLI.run(["import", "--archive", db, try Self.write(envs.prefix(70).flatMap(\.rlp), in: dir, "some.rlp")])

        let r = try await CLI.run(["export", "--archive", archive, "--format", "postgres", "--output", db, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"imported\":130") && r.stdout.contains("\"duplicates\":70"), "\(r.stdout)")
        #expect(try await TestPostgres.sql(db, "SELECT count(*) FROM envelopes") == "200")
        // The counter behind the archived-envelopes gauge agrees with the table.
        #expect(try await TestPostgres.sql(db, "SELECT sum(envelopes) FROM whisper_archive_counts") == "200")
    }

    @Test("a wrong password, an unreachable server and a database that is not status-go's: one line, exit 1")
    func connectionAndSchemaFailuresAreOneLine() async throws {
        let db = try await TestPostgres.newDatabase()
        let dir = try CLI.temporaryDirectory("wa-pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.write(Self.envelopes(3).flatMap(\.rlp), in: dir, "in.rlp")
        let wrong = db.replacingOccurrences(of: "whisper-test-password", with: "not-the-password")
        let refused = try await CLI.run(["import", "--archive", wrong, input])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("password authentication failed"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("not-the-password"))
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")

        let unreachable = try await CLI.run(["import", "--archive", "postgres://whisper:x@127.0.0.1:1/none", input])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("connection refused"), "\(unreachable.stderr)")

        try await TestPostgres.sql(db, "CREATE TABLE envelopes (id integer, payload text)")
        let other = try await CLI.run(["import", "--archive", db, input])
        #expect(other.status == 1)
        #expect(other.stderr.contains("not a status-go mailserver database"), "\(other.stderr)")
        #expect(other.stderr.split(separator: "\n").count == 1, "\(other.stderr)")

        let notApplicable = try await CLI.run(["verify", "--archive", db])
        #expect(notApplicable.status == 2)
        #expect(notApplicable.stderr.contains("does not apply to a PostgreSQL database"), "\(notApplicable.stderr)")
        let badURL = try await CLI.run(["import", "--archive", "postgres://127.0.0.1/db", input])
        #expect(badURL.status == 2, "\(badURL.stderr)")
    }

    @Test("retention removes what was sent before the cutoff in batches, and the counter follows")
    func retentionRemovesOldEnvelopes() async throws {
        let db = try await TestPostgres.newDatabase()
        let dir = try CLI.temporaryDirectory("wa-pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = currentUnixTime()
        let old = (0..<40).map { Envelope(expiry: now - 10 * 86_400 + 60, ttl: 60, topic: Self.topics[0], data: [UInt8($0)], nonce: UInt64($0)) }
        let fresh = Self.envelopes(25, seed: 4)
        _ = try await CLI.run(["import", "--archive", db, try Self.write((old + fresh).flatMap(\.rlp), in: dir, "in.rlp")])
        let r = try await CLI.run(["compact", "--archive", db, "--retention-days", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("removed 40 envelopes") && r.stdout.contains("kept 25"), "\(r.stdout)")
        #expect(try await TestPostgres.sql(db, "SELECT count(*) FROM envelopes") == "25")
        #expect(try await TestPostgres.sql(db, "SELECT sum(envelopes) FROM whisper_archive_counts") == "25")
        let merge = try await CLI.run(["compact", "--archive", db, "--retention-days", "5", "--merge-below", "10"])
        #expect(merge.status == 2, "\(merge.stderr)")
    }
}
