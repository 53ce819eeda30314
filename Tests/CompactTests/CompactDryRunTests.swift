import ArchiveStore
import ArchiveTestSupport
import Foundation
import SQLite
import TestSupport
import Testing
import Whisper

/// Archive shapes for comparing `compact --dry-run` with the real run, and what the comparison looks at.
enum DryRunFixture {
    /// Segment header length (docs/FORMAT.md): the size of the empty active segment a compaction's seal starts.
    static let segmentHeaderLength: Int64 = 32

    /// Every file and directory under `path`, by relative path, with the full contents of the files.
    static func files(_ path: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        for rel in try fm.subpathsOfDirectory(atPath: path) {
            let a = try fm.attributesOfItem(atPath: path + "/" + rel)
            if a[.type] as? FileAttributeType == .typeRegular {
                out[rel] = try Data(contentsOf: URL(fileURLWithPath: path + "/" + rel))
            } else {
                out[rel + "/"] = Data("\(a[.type] ?? "")".utf8)
            }
        }
        return out
    }

    /// Records an assertion that `after` holds the same files with the same bytes as `before`, naming what differs.
    static func expectUnchanged(
        _ before: [String: Data],
        _ after: [String: Data],
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let added = Set(after.keys).subtracting(before.keys).sorted()
        let removed = Set(before.keys).subtracting(after.keys).sorted()
        let changed = before.keys.filter { after[$0] != nil && after[$0] != before[$0] }.sorted()
        #expect(
            added.isEmpty && removed.isEmpty && changed.isEmpty,
            "\(what): added \(added), removed \(removed), changed \(changed)",
            sourceLocation: sourceLocation
        )
    }

    /// Bytes of all segment files.
    static func segmentBytes(_ path: String) throws -> Int64 {
        try ArchiveSnapshot.segmentFiles(path).reduce(Int64(0)) { total, name in
            let size = try FileManager.default.attributesOfItem(atPath: path + "/segments/" + name)[.size] as? NSNumber
            return total + (size?.int64Value ?? 0)
        }
    }

    /// A report with the fields that differ between a dry run and a real one by nature (the flag, the time) cleared.
    static func comparable(_ r: CompactionReport) -> CompactionReport {
        var r = r
        r.dryRun = false
        r.seconds = 0
        return r
    }

    /// `compact ARGS --dry-run --json`, checked to change no file, then `compact ARGS --json`; every figure of the
    /// two reports must agree, and the real one must describe the archive it left.
    static func compareDryAndReal(
        _ path: String,
        _ args: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> (dry: CompactionReport, real: CompactionReport)
    {
        let before = try files(path)
        let bytesBefore = try segmentBytes(path)
        let dry = try await CLI.run(["compact", "--archive", path] + args + ["--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)", sourceLocation: sourceLocation)
        expectUnchanged(before, try files(path), "the dry run changed the archive", sourceLocation: sourceLocation)
        let dryReport = try CompactFixture.report(dry)
        #expect(dryReport.dryRun, sourceLocation: sourceLocation)
        #expect(dryReport.bytesBefore == bytesBefore, sourceLocation: sourceLocation)
        #expect(dryReport.bytesRemoved >= 0, "bytesRemoved \(dryReport.bytesRemoved)", sourceLocation: sourceLocation)
        #expect(dryReport.bytesKept <= bytesBefore, "bytesKept \(dryReport.bytesKept) of \(bytesBefore)", sourceLocation: sourceLocation)

        let real = try await CLI.run(["compact", "--archive", path] + args + ["--json"])
        #expect(real.status == 0, "\(real.stderr)", sourceLocation: sourceLocation)
        let realReport = try CompactFixture.report(real)
        #expect(!realReport.dryRun, sourceLocation: sourceLocation)
        #expect(comparable(dryReport) == comparable(realReport), "dry run \(dryReport)\nreal run \(realReport)", sourceLocation: sourceLocation)
        // The real report describes what the archive now holds (the seal's new, empty active segment aside).
        #expect(try ArchiveSnapshot.segmentFiles(path).count == realReport.segmentsAfter, sourceLocation: sourceLocation)
        #expect(try segmentBytes(path) - segmentHeaderLength == realReport.bytesKept, sourceLocation: sourceLocation)
        #expect(try ArchiveSnapshot.exportedHashes(path).count == realReport.envelopesKept, sourceLocation: sourceLocation)
        let v = try await CompactFixture.verifyFull(path)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)", sourceLocation: sourceLocation)
        return (dryReport, realReport)
    }

    /// An archive of `count` envelopes whose payloads compress well, written with LZ4 on.
    static func buildCompressible(_ count: Int) async throws -> (dir: URL, archive: String, envelopes: [Envelope]) {
        let dir = try CLI.temporaryDirectory("wa-dryrun")
        let path = dir.path + "/archive"
        let words = Array("whisper archive envelope payload ".utf8)
        let envelopes = (0..<count).map { i in
            let data = (0..<300).map { words[($0 + i) % words.count] } + withUnsafeBytes(of: UInt64(i)) { Array($0) }
            return Envelope(expiry: CompactFixture.base + UInt32(i) + 60, ttl: 60, topic: CompactFixture.topics[i % 5], data: data, nonce: UInt64(i))
        }
        var config = CompactFixture.configuration
        config.compression = true
        let archive = try Archive(directory: path, configuration: config)
        for chunk in stride(from: 0, to: count, by: 100) { _ = try await archive.append(Array(envelopes[chunk..<min(count, chunk + 100)])) }
        #expect(archive.compressionTotals.stored < archive.compressionTotals.raw / 2)
        archive.close()
        return (dir, path, envelopes)
    }

    /// Runs `sh -c script` in a private mount namespace (as root), or returns nil when that cannot be set up here.
    static func inPrivateNamespace(_ script: String) async throws -> CLI.Result? {
        let probe = try await CLI.tool(URL(fileURLWithPath: "/usr/bin/unshare"), ["-m", "true"])
        guard probe.status == 0, getuid() == 0 else { return nil }
        return try await CLI.tool(URL(fileURLWithPath: "/usr/bin/unshare"), ["-m", "sh", "-c", script])
    }
}

@Suite("compact --dry-run")
struct CompactDryRunTests {
    @Test("dry run and real run agree: expired whole segments and one partly expired, with a non-empty active segment")
    func expiredSegments() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(3000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cutoff = CompactFixture.base + 1100
        let (dry, real) = try await DryRunFixture.compareDryAndReal(path, ["--before", String(cutoff), "--merge-below", "0"])
        #expect(dry.expired == 1100)
        #expect(dry.segmentsDropped >= 3)
        #expect(dry.segmentsRewritten >= 1)
        #expect(real.envelopesKept == envelopes.count - 1100)
    }

    @Test("dry run and real run agree: --drop-topic over LZ4 blocks")
    func dropTopicCompressed() async throws {
        let (dir, path, envelopes) = try await DryRunFixture.buildCompressible(4000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let topic = CompactFixture.topics[2]
        let (dry, real) = try await DryRunFixture.compareDryAndReal(path, ["--drop-topic", topic.bytes.hexEncoded, "--merge-below", "0"])
        #expect(dry.topicDropped == envelopes.count / 5)
        #expect(dry.segmentsRewritten >= 2)
        #expect(real.bytesRemoved > 0)
        #expect(try ArchiveSnapshot.exportedHashes(path) == Set(envelopes.filter { $0.topic != topic }.map(\.hash)))
    }

    @Test("dry run and real run agree: small segments merge, duplicates go, the active segment holds records")
    func mergeWithDuplicates() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(900)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Forget 40 envelopes in the index, then store them again: the old copies become unindexed duplicates,
        // the new ones land in the active segment.
        let db = try SQLiteDatabase(path: path + "/index.sqlite")
        let victims = Array(envelopes[100..<140])
        for e in victims {
            try db.execute("DELETE FROM entries WHERE topic = x'\(e.topic.bytes.hexEncoded)' AND key = x'\(Array(e.key.bytes[0..<36]).hexEncoded)'")
        }
        try db.execute("UPDATE topics SET count = (SELECT count(*) FROM entries e WHERE e.topic = topics.topic)")
        let w = try Archive(directory: path, configuration: CompactFixture.configuration)
        #expect(try await w.append(victims).added == 40)
        let active = try #require(try w.segments().last)
        #expect(!active.sealed && active.records >= 40)
        w.close()
        let (dry, real) = try await DryRunFixture.compareDryAndReal(path, [])
        #expect(dry.duplicates == 40)
        #expect(dry.segmentsWritten >= 1)
        #expect(dry.segmentsAfter < dry.segmentsBefore)
        #expect(real.envelopesKept == envelopes.count)
        #expect(try ArchiveSnapshot.exportedHashes(path) == Set(envelopes.map(\.hash)))
    }

    @Test("a dry run beside a running serve changes no file and takes no lock")
    func besideServe() async throws {
        let (dir, path, _) = try await CompactFixture.build(1500)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cutoff = CompactFixture.base + 500
        let server = try await ServerProcess(archive: URL(fileURLWithPath: path), arguments: ["--sync", "none"])
        let before = try DryRunFixture.files(path)
        let dry = try await CLI.run(["compact", "--archive", path, "--before", String(cutoff), "--dry-run", "--json"])
        let after = try DryRunFixture.files(path)
        #expect(await server.stop() == 0)
        #expect(dry.status == 0, "\(dry.stderr)")
        DryRunFixture.expectUnchanged(before, after, "the dry run beside serve changed the archive")
        let dryReport = try CompactFixture.report(dry)
        #expect(dryReport.expired == 500)
        // The server stopped cleanly without appending: the real run does what the dry run said.
        let real = try await CLI.run(["compact", "--archive", path, "--before", String(cutoff), "--json"])
        #expect(real.status == 0, "\(real.stderr)")
        #expect(DryRunFixture.comparable(dryReport) == DryRunFixture.comparable(try CompactFixture.report(real)))
    }

    @Test("a dry run works on a read-only archive and reports what the real run then does")
    func readOnlyArchive() async throws {
        let (dir, path, _) = try await CompactFixture.build(1500)
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["--before", String(CompactFixture.base + 700), "--drop-topic", CompactFixture.topics[4].bytes.hexEncoded]
        let before = try DryRunFixture.files(path)
        let command = ([CLI.binary.path, "compact", "--archive", path] + args + ["--dry-run", "--json"]).map { "'\($0)'" }.joined(separator: " ")
        // The write probe proves the mount is read-only for root too.
        let script =
            "mount --bind '\(path)' '\(path)' && mount -o remount,bind,ro '\(path)' && "
            + "if touch '\(path)/probe' 2>/dev/null; then echo writable >&2; exit 3; fi && exec \(command)"
        guard let dry = try await DryRunFixture.inPrivateNamespace(script) else {
            print("SKIPPED readOnlyArchive: no private mount namespace here (needs root and unshare -m)")
            return
        }
        #expect(dry.status == 0, "\(dry.stderr)")
        DryRunFixture.expectUnchanged(before, try DryRunFixture.files(path), "the dry run on a read-only archive changed it")
        let dryReport = try CompactFixture.report(dry)
        let real = try await CLI.run(["compact", "--archive", path] + args + ["--json"])
        #expect(real.status == 0, "\(real.stderr)")
        #expect(DryRunFixture.comparable(dryReport) == DryRunFixture.comparable(try CompactFixture.report(real)))
    }

    @Test(
        "a dry run plans with the index rows a writer's open would add when the index lags the segments",
        arguments: [false, true]
    )
    func laggingIndex(writerRunning: Bool) async throws {
        let (dir, path, _) = try await CompactFixture.build(1500)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Forget the rows of the active segment's later blocks and move the high-water mark back, as a writer
        // killed before its index commit leaves them: the next writer open indexes those blocks again.
        let a = try Archive(directory: path, configuration: .reader)
        let active = try #require(try a.segments().last)
        a.close()
        #expect(!active.sealed)
        var db: SQLiteDatabase? = try SQLiteDatabase(path: path + "/index.sqlite")
        let offsets = try db!.prepare("SELECT DISTINCT blk FROM entries WHERE seg = \(active.firstSequence) ORDER BY blk")
        var blocks: [Int64] = []
        while try offsets.step() { blocks.append(offsets.int64(0)) }
        offsets.reset()
        #expect(blocks.count >= 2)
        let cut = blocks[blocks.count / 2]
        try db!.execute(
            """
            DELETE FROM entries WHERE seg = \(active.firstSequence) AND blk >= \(cut);
            UPDATE topics SET count = (SELECT count(*) FROM entries e WHERE e.topic = topics.topic);
            UPDATE meta SET value = \(active.firstSequence) WHERE name = 'hwm_segment';
            UPDATE meta SET value = \(cut) WHERE name = 'hwm_offset';
            """
        )
        // With no writer running, the reader reads the index as it is on disk.
        if !writerRunning { db = nil }
        let before = try DryRunFixture.files(path)
        // Without merging, only the segment across the cutoff needs a rewrite: not the active one, once indexed.
        let args = ["--merge-below", "0", "--before", String(CompactFixture.base + 500)]
        // A running writer holds the lock and its index connection (our `db`) meanwhile.
        let lock = writerRunning ? open(path + "/LOCK", O_RDWR) : -1
        if writerRunning { #expect(lock >= 0 && flock(lock, LOCK_EX) == 0) }
        let dry = try await CLI.run(["compact", "--archive", path] + args + ["--dry-run", "--json"])
        var after = try DryRunFixture.files(path)
        if writerRunning {
            flock(lock, LOCK_UN)
            close(lock)
            db = nil
            // SQLite's shared-memory file beside a running writer holds every reader's marks: not archive data.
            after["index.sqlite-shm"] = before["index.sqlite-shm"]
        }
        #expect(dry.status == 0, "\(dry.stderr)")
        DryRunFixture.expectUnchanged(before, after, "the dry run over a lagging index changed the archive")
        let real = try await CLI.run(["compact", "--archive", path] + args + ["--json"])
        #expect(real.status == 0, "\(real.stderr)")
        let dryReport = try CompactFixture.report(dry)
        let realReport = try CompactFixture.report(real)
        #expect(DryRunFixture.comparable(dryReport) == DryRunFixture.comparable(realReport), "dry run \(dryReport)\nreal run \(realReport)")
        #expect(realReport.expired == 500)
        #expect(realReport.segmentsRewritten == 1)
    }

    @Test("the library's dry run on an archive open as the writer reports what its real run then does")
    func writerDryRun() async throws {
        let (dir, path, _) = try await CompactFixture.build(1200)
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try Archive(directory: path, configuration: CompactFixture.configuration)
        defer { w.close() }
        let options = CompactionOptions(before: CompactFixture.base + 300, dropTopics: [CompactFixture.topics[0]], mergeBelow: 20 << 10)
        var dryOptions = options
        dryOptions.dryRun = true
        let segments = try w.segments()
        let dry = try w.compact(dryOptions)
        #expect(try w.segments() == segments)
        let real = try w.compact(options)
        #expect(DryRunFixture.comparable(dry) == DryRunFixture.comparable(real))
    }
}
