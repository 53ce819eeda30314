import ArchiveStore
import ArchiveTestSupport
import Foundation
import TestSupport
import Testing

/// Archives whose own files lie: every number read from the index, the manifest, a segment's name or a block
/// header is checked before arithmetic, so the commands report instead of trapping (exit 132).
@Suite("Hostile archive files")
struct HostileArchiveTests {
    static let sqlite3 = URL(fileURLWithPath: "/usr/bin/sqlite3")

    /// A fresh copy of an archive of 1500 envelopes in several segments.
    func archive() async throws -> String {
        try await Fixture.build().archive
    }

    func sql(_ archive: String, _ statement: String) async throws {
        let r = try await CLI.tool(Self.sqlite3, [archive + "/index.sqlite", statement])
        try #require(r.status == 0, "sqlite3: \(r.stderr)")
    }

    /// Runs the reading and repairing commands; none may trap, and each names what it found.
    func expectNoTrap(_ archive: String, commands: [[String]]) async throws {
        for args in commands {
            let r = try await CLI.run(args.map { $0 == "ARCHIVE" ? archive : $0 })
            #expect(r.status != 132 && r.status < 128, "\(args.joined(separator: " ")) crashed (\(r.status)): \(r.stderr)")
        }
    }

    static let readers: [[String]] = [
        ["verify", "--archive", "ARCHIVE", "--full"],
        ["export", "--archive", "ARCHIVE", "--format", "rlp", "--output", "/dev/null"],
        ["audit", "--archive", "ARCHIVE", "--json"],
    ]

    @Test(
        "index rows with out-of-range seg, blk, pos, key or NULL columns",
        arguments: [
            "UPDATE entries SET seg = -1 WHERE rowid IN (SELECT rowid FROM entries LIMIT 3)",
            "UPDATE entries SET blk = 9223372036854775807 WHERE key IN (SELECT key FROM entries LIMIT 3)",
            "UPDATE entries SET blk = -9223372036854775808 WHERE key IN (SELECT key FROM entries LIMIT 3)",
            "UPDATE entries SET pos = 9223372036854775800 WHERE key IN (SELECT key FROM entries LIMIT 3)",
            "UPDATE entries SET len = -5 WHERE key IN (SELECT key FROM entries LIMIT 3)",
            "UPDATE entries SET key = x'0102' WHERE key IN (SELECT key FROM entries LIMIT 1)",
            // What a torn page can read back as: the NOT NULL constraints are dropped from the schema first.
            "UPDATE entries SET seg = NULL, blk = NULL, pos = NULL, len = NULL WHERE key IN (SELECT key FROM entries LIMIT 3)",
        ]
    )
    func hostileRows(_ statement: String) async throws {
        let a = try await archive()
        if statement.contains("NULL") {
            try await sql(a, "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE name = 'entries';")
        }
        try await sql(
            a,
            statement.replacingOccurrences(
                of: "rowid IN (SELECT rowid FROM entries LIMIT 3)",
                with: "key IN (SELECT key FROM entries LIMIT 3)"
            )
        )
        try await expectNoTrap(a, commands: Self.readers + [["verify", "--archive", "ARCHIVE", "--full", "--repair"]])
        // The repair rebuilt the index from the segments: clean again.
        let v = try await Fixture.verify(a, ["--full"])
        #expect(v.status == 0, "after repair: \(v.findings.map { $0.kind ?? "" })")
    }

    @Test("compaction refuses an index row whose key is not 36 bytes, and moves no record or row")
    func compactionRefusesShortKey() async throws {
        let a = try await archive()
        try await sql(a, "UPDATE entries SET key = x'0102' WHERE key IN (SELECT key FROM entries ORDER BY seg LIMIT 1)")
        let before = try DirectorySnapshot(a)
        let rows = [a + "/index.sqlite", "SELECT hex(topic), hex(key), seg, blk, pos FROM entries ORDER BY 1, 2"]
        let rowsBefore = try await CLI.tool(Self.sqlite3, rows)
        let r = try await CLI.run(["compact", "--archive", a, "--merge-below", "1000000000"])
        #expect(r.status == 1, "compact: \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("2-byte key") && r.stderr.contains("verify --repair"), "\(r.stderr)")
        // Opening the writer seals the active segment (a new empty one follows it); no record and no row moved.
        let after = try DirectorySnapshot(a)
        for (path, bytes) in before.contents where path.hasPrefix("./segments/") {
            #expect(after.contents[path] == bytes, "\(path) changed")
        }
        let rowsAfter = try await CLI.tool(Self.sqlite3, rows)
        #expect(rowsAfter.stdout == rowsBefore.stdout && !rowsBefore.stdout.isEmpty, "the index rows changed")
    }

    @Test("verify reports rows that can point at no record")
    func verifyReportsInvalidRows() async throws {
        let a = try await archive()
        try await sql(a, "UPDATE entries SET seg = -1 WHERE key IN (SELECT key FROM entries LIMIT 2)")
        let v = try await Fixture.verify(a, ["--full"])
        #expect(v.status & 8 == 8)
        #expect(v.findings.filter { $0.kind == "index-invalid-row" }.count == 2)
    }

    @Test(
        "high-water marks out of range",
        arguments: [
            ("hwm_segment", "-1"), ("hwm_offset", "-9223372036854775808"), ("hwm_offset", "9223372036854775807"),
        ]
    )
    func hostileMeta(_ name: String, _ value: String) async throws {
        let a = try await archive()
        try await sql(a, "UPDATE meta SET value = \(value) WHERE name = '\(name)'")
        try await expectNoTrap(a, commands: Self.readers)
        let v = try await Fixture.verify(a, ["--full"])
        #expect(v.status != 0, "verify called a high-water mark of \(value) clean")
        let export = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", "/dev/null"])
        #expect(export.status == 1)
        #expect(export.stderr.contains("index.sqlite"), "\(export.stderr)")
        try await expectNoTrap(a, commands: [["verify", "--archive", "ARCHIVE", "--repair"]])
        #expect(try await Fixture.verify(a, ["--full"]).status == 0)
    }

    @Test("a segment file named with a number of 2^63 or more is not a segment")
    func hugeSegmentName() async throws {
        let a = try await archive()
        let segments = try ArchiveSnapshot.segmentFiles(a)
        try FileManager.default.copyItem(atPath: a + "/segments/" + segments[0], toPath: a + "/segments/09223372036854775808.seg")
        try FileManager.default.copyItem(atPath: a + "/segments/" + segments[0], toPath: a + "/segments/18446744073709551615.seg")
        try await expectNoTrap(a, commands: Self.readers + [["verify", "--archive", "ARCHIVE", "--repair"]])
    }

    @Test("a block header whose sequence is 2^64 - 1, with a valid CRC")
    func hugeBlockSequence() async throws {
        let a = try await archive()
        try rewriteFirstBlockHeader(of: a) { header in for k in 0..<8 { header[16 + k] = 0xFF } }
        try await expectNoTrap(a, commands: Self.readers + [["verify", "--archive", "ARCHIVE", "--full", "--repair"]])
    }

    @Test("manifest values out of range", arguments: ["\"records\" : -1", "\"firstSequence\" : 18446744073709551615", "\"bytes\" : -9"])
    func hostileManifest(_ replacement: String) async throws {
        let a = try await archive()
        var text = try String(contentsOfFile: a + "/MANIFEST", encoding: .utf8)
        let key = String(replacement.split(separator: ":")[0])
        let range = try #require(text.range(of: key + #": [0-9]+"#, options: .regularExpression))
        text.replaceSubrange(range, with: replacement)
        try text.write(toFile: a + "/MANIFEST", atomically: false, encoding: .utf8)
        try await expectNoTrap(a, commands: Self.readers)
        let export = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", "/dev/null"])
        #expect(export.status == 1)
        #expect(export.stderr.contains("MANIFEST"), "\(export.stderr)")
    }

    @Test("an LZ4 block claiming more raw bytes than LZ4 can expand to is refused before allocating")
    func lz4BlockClaimingTooMuch() async throws {
        let a = try await archive()
        let raw = UInt32(64 << 20)  // the most a block may hold, from a payload of a few KiB
        try rewriteFirstBlockHeader(of: a) { header in
            header[28] = 1  // codec LZ4
            for k in 0..<4 { header[12 + k] = UInt8(truncatingIfNeeded: raw >> (8 * k)) }
        }
        let v = try await Fixture.verify(a)
        #expect(v.status & 4 == 4)
        let r = try await CLI.run(["verify", "--archive", a])
        #expect(r.stdout.contains("claims \(raw) raw bytes"), "\(r.stdout)")
    }

    /// Edits the header of the first block of the second segment (docs/FORMAT.md) and gives it a valid CRC32C again.
    func rewriteFirstBlockHeader(of archive: String, _ edit: (inout ArraySlice<UInt8>) -> Void) throws {
        let segment = archive + "/segments/" + (try ArchiveSnapshot.segmentFiles(archive))[1]
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: segment)))
        let block = 32
        var header = bytes[block..<(block + 32)]
        header = ArraySlice(Array(header))
        edit(&header)
        bytes.replaceSubrange(block..<(block + 32), with: header)
        var stored = 0
        for k in 0..<4 { stored |= Int(bytes[block + 8 + k]) << (8 * k) }
        let crc = crc32c(bytes[(block + 8)..<(block + 32 + stored)])
        for k in 0..<4 { bytes[block + 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
    }

    /// CRC-32C (Castagnoli), bit by bit: the test's own reading of docs/FORMAT.md.
    func crc32c<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        }
        return ~c
    }
}
