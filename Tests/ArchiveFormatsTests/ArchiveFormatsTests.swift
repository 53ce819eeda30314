import ArchiveFormats
import ArchiveStore
import Foundation
import SQLite
import TestSupport
import Testing
import Whisper

@Suite("Formats")
struct ArchiveFormatsTests {
    static let outputs: [(ArchiveFormat, String)] = [
        (.rlp, "out.rlp"), (.rlp, "out.rlp.lz4"), (.jsonl, "out.jsonl"), (.jsonl, "out.jsonl.lz4"),
        (.sqlite, "out.sqlite"), (.leveldb, "out.leveldb"), (.archive, "out-archive"),
    ]

    @Test(arguments: 0..<7)
    func roundTripThroughEveryFormat(which: Int) async throws {
        let (format, name) = Self.outputs[which]
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(700, seed: UInt64(which + 1))
        let a = try Archive(directory: dir + "/a")
        _ = try await a.append(envs)
        let exported = try await Exporter.run(store: a, filter: .all, format: format, path: dir + "/" + name)
        a.close()
        #expect(exported.exported == 700)
        #expect(try ArchiveFormat.detect(path: dir + "/" + name) == format)
        let b = try Archive(directory: dir + "/b")
        let summary = try await Importer(store: b).run(paths: [dir + "/" + name], format: nil)
        b.close()
        #expect(summary.imported == 700 && summary.rejected == 0 && summary.duplicates == 0)
        #expect(try FormatFixtures.archiveRLPs(dir + "/b") == Set(envs.map(\.rlp)))
    }

    @Test func lz4OutputIsReadableByTheLZ4Tool() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/lz4") else { return }
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(100)
        let a = try Archive(directory: dir + "/a")
        _ = try await a.append(envs)
        _ = try await Exporter.run(store: a, filter: .all, format: .rlp, path: dir + "/x.rlp.lz4")
        _ = try await Exporter.run(store: a, filter: .all, format: .rlp, path: dir + "/x.rlp")
        a.close()
        let lz4 = try await CLI.tool(URL(fileURLWithPath: "/usr/bin/lz4"), ["-d", "-q", dir + "/x.rlp.lz4", dir + "/y.rlp"])
        #expect(lz4.status == 0, "\(lz4.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/y.rlp")) == Data(contentsOf: URL(fileURLWithPath: dir + "/x.rlp")))
    }

    @Test func rlpReaderAcceptsOneListOfEnvelopes() throws {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(20)
        let payload = envs.flatMap(\.rlp)
        let list = RLPWriterHeader.list(payload.count) + payload
        try Data(list).write(to: URL(fileURLWithPath: dir + "/bundle.rlp"))
        var src = try RLPStreamSource(path: dir + "/bundle.rlp")
        var got: [[UInt8]] = []
        while let item = try src.next() {
            guard case .envelope(let e, _) = item else {
                Issue.record("unexpected \(item)")
                continue
            }
            got.append(e.rlp)
        }
        #expect(got == envs.map(\.rlp))
    }

    @Test func truncatedRLPIsReportedAndTheRestImported() async throws {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(10)
        var bytes = envs.flatMap(\.rlp)
        let cutAt = bytes.count - 5
        bytes.removeLast(5)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/t.rlp"))
        let start = envs.dropLast().reduce(0) { $0 + $1.rlp.count }
        let archive = try Archive(directory: dir + "/a")
        var importer = Importer(store: archive)
        nonisolated(unsafe) var errors: [FormatError] = []
        importer.onInvalid = { errors.append($0) }
        let s = try await importer.run(paths: [dir + "/t.rlp"], format: nil)
        archive.close()
        #expect(s.imported == 9 && s.rejected == 1)
        #expect(errors.count == 1 && errors.first?.offset == Int64(start))
        #expect(errors.first?.detail.contains("truncated") == true)
        _ = cutAt
    }

    @Test func badJSONLineIsReportedWithItsLine() async throws {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(3)
        var lines = envs.map { EnvelopeJSON.encode($0) }
        lines.insert("{\"expiry\": 1, \"ttl\": ", at: 1)
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/x.jsonl", atomically: true, encoding: .utf8)
        let archive = try Archive(directory: dir + "/a")
        var importer = Importer(store: archive)
        nonisolated(unsafe) var errors: [FormatError] = []
        importer.onInvalid = { errors.append($0) }
        let s = try await importer.run(paths: [dir + "/x.jsonl"], format: nil)
        #expect(s.imported == 3 && s.rejected == 1)
        #expect(errors.first?.line == 2)
        // --strict stops at the bad line and keeps what came before.
        let b = try Archive(directory: dir + "/b")
        var strict = Importer(store: b)
        strict.strict = true
        let s2 = try await strict.run(paths: [dir + "/x.jsonl"], format: nil)
        #expect(s2.stopped && s2.imported == 1)
        #expect(try b.count() == 1)
        b.close()
        archive.close()
    }

    @Test func statusGoLevelDBWithAWrongSizedKey() async throws {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(50)
        var entries = envs.map { ($0.key.bytes, $0.rlp) }
        entries.append(([1, 2, 3], envs[0].rlp))  // wrong key size
        entries.append((Array(envs[1].key.bytes[0..<36]), envs[1].rlp))  // a go-ethereum key: fine (a duplicate)
        FormatFixtures.writeLevelDB(at: dir + "/mail", entries: entries)
        let archive = try Archive(directory: dir + "/a")
        _ = try await archive.append([envs[2]])
        var importer = Importer(store: archive)
        nonisolated(unsafe) var errors: [FormatError] = []
        importer.onInvalid = { errors.append($0) }
        let s = try await importer.run(paths: [dir + "/mail"], format: nil)
        #expect(s.imported == 49 && s.duplicates == 2 && s.rejected == 1)
        #expect(errors.first?.key == "010203")
        #expect(try archive.count() == 50)
        archive.close()
    }

    @Test func missingFileIsReportedAndOthersImported() async throws {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(5)
        try Data(envs.flatMap(\.rlp)).write(to: URL(fileURLWithPath: dir + "/ok.rlp"))
        let archive = try Archive(directory: dir + "/a")
        var importer = Importer(store: archive)
        nonisolated(unsafe) var errors: [FormatError] = []
        importer.onInvalid = { errors.append($0) }
        let s = try await importer.run(paths: [dir + "/missing.rlp", dir + "/ok.rlp"], format: nil)
        archive.close()
        #expect(s.imported == 5 && s.unreadableFiles == 1)
        #expect(errors.first?.code == .missingFile && errors.first?.path == dir + "/missing.rlp")
    }

    @Test func sqliteFileOpensWithTheStatusGoSchema() async throws {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(30)
        let a = try Archive(directory: dir + "/a")
        _ = try await a.append(envs)
        _ = try await Exporter.run(store: a, filter: .all, format: .sqlite, path: dir + "/m.sqlite")
        a.close()
        let db = try SQLiteDatabase(path: dir + "/m.sqlite", readOnly: true)
        #expect(try db.scalar("SELECT count(*) FROM envelopes WHERE length(id) = 40 AND length(topic) = 4 AND length(bloom) = 64") == 30)
    }
}

/// An RLP list header.
enum RLPWriterHeader {
    static func list(_ n: Int) -> [UInt8] {
        if n < 56 { return [0xC0 + UInt8(n)] }
        var len: [UInt8] = []
        var x = n
        while x > 0 {
            len.insert(UInt8(x & 0xFF), at: 0)
            x >>= 8
        }
        return [0xF7 + UInt8(len.count)] + len
    }
}
