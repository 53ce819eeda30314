import ArchiveStore
import ArchiveTestSupport
import Foundation
import SQLite
import TestSupport
import Testing
import Whisper

/// Archives with many small segments, and what a reader exports from them.
enum CompactFixture {
    static let base: UInt32 = 1_700_000_000
    static let topics = (0..<5).map { Topic(rawValue: 0x2000_0000 + UInt32($0)) }

    static var configuration: ArchiveConfiguration {
        var c = ArchiveConfiguration()
        c.segmentMaxBytes = 48 << 10
        c.blockMaxBytes = 6 << 10
        c.compression = false
        c.sync = .none
        return c
    }

    /// Envelope `i`: sent at `base + i`, topic `i % 5`.
    static func envelope(_ i: Int, size: Int = 150) -> Envelope {
        var rng = SystemRandomNumberGenerator()
        return Envelope(
            expiry: base + UInt32(i) + 60,
            ttl: 60,
            topic: topics[i % 5],
            data: (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) },
            nonce: UInt64(i)
        )
    }

    static func build(_ count: Int = 1500) async throws -> (dir: URL, archive: String, envelopes: [Envelope]) {
        let dir = try CLI.temporaryDirectory("wa-compact")
        let path = dir.path + "/archive"
        let envelopes = (0..<count).map { envelope($0) }
        let archive = try Archive(directory: path, configuration: configuration)
        for chunk in stride(from: 0, to: count, by: 100) { _ = try await archive.append(Array(envelopes[chunk..<min(count, chunk + 100)])) }
        archive.close()
        return (dir, path, envelopes)
    }

    static func inode(_ path: String) throws -> UInt64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
    }

    /// Name, inode, size and modification time of every file in the archive (the index included).
    static func snapshot(_ path: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        for rel in try fm.subpathsOfDirectory(atPath: path) {
            let a = try fm.attributesOfItem(atPath: path + "/" + rel)
            guard a[.type] as? FileAttributeType == .typeRegular else { continue }
            let data = rel == "MANIFEST" ? String(decoding: try Data(contentsOf: URL(fileURLWithPath: path + "/" + rel)), as: UTF8.self) : ""
            out[rel] = "\(a[.systemFileNumber] ?? 0) \(a[.size] ?? 0) \((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) \(data)"
        }
        return out
    }

    static func verifyFull(_ path: String) async throws -> CLI.Result {
        try await CLI.run(["verify", "--archive", path, "--full"])
    }

    static func report(_ r: CLI.Result) throws -> CompactionReport {
        try JSONDecoder().decode(CompactionReport.self, from: Data(r.stdout.utf8))
    }
}

@Suite("compact")
struct CompactTests {
    @Test("retention removes exactly the envelopes sent before the cutoff; whole segments are deleted, not rewritten")
    func retention() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(3000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cutoff = CompactFixture.base + 1100
        // Which files hold only envelopes before the cutoff, and which only after, before compaction.
        let a = try Archive(directory: path, configuration: .reader)
        let sealed = try a.segments().filter(\.sealed)
        a.close()
        let wholeDrops = sealed.filter { ($0.maxSentTime ?? 0) < cutoff }.map(\.fileName)
        let untouched = sealed.filter { ($0.minSentTime ?? 0) >= cutoff }.map(\.fileName)
        #expect(wholeDrops.count >= 3)
        #expect(untouched.count >= 3)
        var inodes: [String: UInt64] = [:]
        for name in untouched { inodes[name] = try CompactFixture.inode(path + "/segments/" + name) }

        // No merging, so that only the segment across the cutoff is rewritten.
        let r = try await CLI.run(["compact", "--archive", path, "--before", String(cutoff), "--merge-below", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try CompactFixture.report(r)
        #expect(report.expired == 1100)
        #expect(report.envelopesRemoved == 1100)
        #expect(report.envelopesKept == envelopes.count - 1100)
        #expect(report.segmentsDropped == wholeDrops.count)
        #expect(report.segmentsRewritten == 1)  // the one segment that straddles the cutoff
        #expect(report.segmentsWritten == 1)
        #expect(report.bytesRemoved > 0)

        let expected = Set(envelopes.filter { $0.sentTime >= cutoff }.map(\.hash))
        #expect(try ArchiveSnapshot.exportedHashes(path) == expected)
        let files = try ArchiveSnapshot.segmentFiles(path)
        for name in wholeDrops { #expect(!files.contains(name), "\(name) should have been deleted") }
        for name in untouched {
            #expect(files.contains(name))
            #expect(try CompactFixture.inode(path + "/segments/" + name) == inodes[name], "\(name) should not have been rewritten")
        }
        let v = try await CompactFixture.verifyFull(path)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")

        // Queries agree with the export, and a second run has nothing left to do.
        let w = try Archive(directory: path, configuration: CompactFixture.configuration)
        #expect(try w.count() == expected.count)
        let page = try w.query(EnvelopeFilter(from: 0, to: .max, topics: .all), limit: 10_000)
        #expect(Set(page.envelopes.map(\.hash)) == expected)
        let again = try w.applyRetention(before: cutoff)
        #expect(again.envelopesRemoved == 0)
        w.close()
        #expect(try await CompactFixture.verifyFull(path).status == 0)
    }

    @Test("--drop-topic removes every envelope of the topic and nothing else")
    func dropTopic() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build()
        defer { try? FileManager.default.removeItem(at: dir) }
        let topic = CompactFixture.topics[2]
        let r = try await CLI.run(["compact", "--archive", path, "--drop-topic", topic.bytes.map { String(format: "%02x", $0) }.joined(), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try CompactFixture.report(r)
        #expect(report.topicDropped == envelopes.count / 5)
        #expect(report.expired == 0)
        #expect(try ArchiveSnapshot.exportedHashes(path) == Set(envelopes.filter { $0.topic != topic }.map(\.hash)))
        let v = try await CompactFixture.verifyFull(path)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        let a = try Archive(directory: path, configuration: .reader)
        #expect(try a.topics().map(\.topic).contains(topic) == false)
        a.close()
    }

    @Test("--dry-run reports what a real run removes and changes nothing")
    func dryRun() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cutoff = CompactFixture.base + 500
        let topic = CompactFixture.topics[1].bytes.map { String(format: "%02x", $0) }.joined()
        // Let the first writer open settle the manifest, so the snapshot compares like with like.
        Archive.openAndClose(path)
        let before = try CompactFixture.snapshot(path)
        let exportBefore = try ArchiveSnapshot.exportedHashes(path)
        let dry = try await CLI.run(["compact", "--archive", path, "--before", String(cutoff), "--drop-topic", topic, "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let dryReport = try CompactFixture.report(dry)
        #expect(dryReport.dryRun)
        let after = try CompactFixture.snapshot(path).filter { !$0.key.hasPrefix("index.sqlite") && $0.key != "LOCK" }
        #expect(after == before.filter { !$0.key.hasPrefix("index.sqlite") && $0.key != "LOCK" })
        #expect(try ArchiveSnapshot.exportedHashes(path) == exportBefore)

        let real = try CompactFixture.report(
            try await CLI.run(["compact", "--archive", path, "--before", String(cutoff), "--drop-topic", topic, "--json"])
        )
        #expect(real.envelopesRemoved == dryReport.envelopesRemoved)
        #expect(real.expired == dryReport.expired)
        #expect(real.topicDropped == dryReport.topicDropped)
        #expect(real.segmentsDropped == dryReport.segmentsDropped)
        #expect(real.envelopesKept == envelopes.filter { $0.sentTime >= cutoff && $0.topic != CompactFixture.topics[1] }.count)
    }

    @Test("duplicates that slipped in are removed; small segments are merged")
    func duplicatesAndMerge() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(600)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Forget 40 envelopes in the index, then store them again: the old copies become unindexed duplicates.
        let db = try SQLiteDatabase(path: path + "/index.sqlite")
        let victims = Array(envelopes[100..<140])
        for e in victims {
            let key = Array(e.key.bytes[0..<36])
            try db.execute("DELETE FROM entries WHERE topic = x'\(e.topic.bytes.hexEncoded)' AND key = x'\(key.hexEncoded)'")
        }
        try db.execute("UPDATE topics SET count = (SELECT count(*) FROM entries e WHERE e.topic = topics.topic)")
        var config = CompactFixture.configuration
        let w = try Archive(directory: path, configuration: config)
        let again = try await w.append(victims)
        #expect(again.added == 40)
        w.close()
        #expect(try await CompactFixture.verifyFull(path).status != 0)  // the duplicates are a finding

        config.segmentMaxBytes = 1 << 20  // every 48 KiB segment is now small: merge them
        let c = try Archive(directory: path, configuration: config)
        let segmentsBefore = try c.segments().count
        let report = try c.compact(CompactionOptions())
        #expect(report.duplicates == 40)
        #expect(report.envelopesKept == envelopes.count)
        let segmentsAfter = try c.segments().count
        #expect(segmentsAfter < segmentsBefore)
        c.close()
        #expect(try ArchiveSnapshot.exportedHashes(path) == Set(envelopes.map(\.hash)))
        let v = try await CompactFixture.verifyFull(path)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }

    @Test("a compaction killed at any moment leaves the old or the new archive, both valid")
    func killed() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(12_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cutoff = CompactFixture.base + 4100
        let topic = CompactFixture.topics[3]
        let args = ["--before", String(cutoff), "--drop-topic", topic.bytes.hexEncoded]
        let old = Set(envelopes.map(\.hash))
        let new = Set(envelopes.filter { $0.sentTime >= cutoff && $0.topic != topic }.map(\.hash))
        // How long a whole run takes (process start included), on a copy.
        let timing = dir.path + "/timing"
        try FileManager.default.copyItem(atPath: path, toPath: timing)
        let t0 = Date()
        #expect(try await CLI.run(["compact", "--archive", timing] + args).status == 0)
        let whole = Date().timeIntervalSince(t0)
        #expect(try ArchiveSnapshot.exportedHashes(timing) == new)

        var outcomes: [String] = []
        let runs = 10
        for i in 0..<runs {
            let copy = dir.path + "/kill\(i)"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            let p = Process()
            p.executableURL = CLI.binary
            p.arguments = ["compact", "--archive", copy] + args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Spread over the run (most of its start is process start-up), with jitter.
            let delay = whole * (0.2 + 0.9 * Double(i) / Double(runs - 1)) * Double.random(in: 0.9...1.1)
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // The archive opens (as the writer, which removes leftovers), verifies clean, and exports old or new.
            let w = try Archive(directory: copy, configuration: CompactFixture.configuration)
            w.close()
            let v = try await CompactFixture.verifyFull(copy)
            #expect(v.status == 0, "kill \(i) after \(delay) s: \(v.stdout)\(v.stderr)")
            let got = try ArchiveSnapshot.exportedHashes(copy)
            #expect(got == old || got == new, "kill \(i) after \(delay) s: \(got.count) envelopes")
            outcomes.append(got == old ? "old" : "new")
            // A compaction after the crash finishes the job.
            #expect(try await CLI.run(["compact", "--archive", copy] + args).status == 0)
            #expect(try ArchiveSnapshot.exportedHashes(copy) == new)
            #expect(try await CompactFixture.verifyFull(copy).status == 0)
        }
        print("kill outcomes: \(outcomes) (whole run \(whole) s)")
    }

    @Test("the crash states between the steps of a swap are recovered on open")
    func crashStates() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(1500)
        defer { try? FileManager.default.removeItem(at: dir) }
        Archive.openAndClose(path)
        let fm = FileManager.default
        let cutoff = CompactFixture.base + 400
        let old = Set(envelopes.map(\.hash))
        let new = Set(envelopes.filter { $0.sentTime >= cutoff }.map(\.hash))
        let done = dir.path + "/done"
        try fm.copyItem(atPath: path, toPath: done)
        #expect(try await CLI.run(["compact", "--archive", done, "--before", String(cutoff)]).status == 0)

        // 1. New manifest, old index, old files still there: the index is rebuilt, the old files removed.
        let between = dir.path + "/between"
        try fm.copyItem(atPath: done, toPath: between)
        for suffix in ["", "-wal", "-shm"] {
            try? fm.removeItem(atPath: between + "/index.sqlite" + suffix)
            if fm.fileExists(atPath: path + "/index.sqlite" + suffix) {
                try fm.copyItem(atPath: path + "/index.sqlite" + suffix, toPath: between + "/index.sqlite" + suffix)
            }
        }
        for name in try ArchiveSnapshot.segmentFiles(path) where !fm.fileExists(atPath: between + "/segments/" + name) {
            try fm.copyItem(atPath: path + "/segments/" + name, toPath: between + "/segments/" + name)
        }
        let a = try Archive(directory: between, configuration: CompactFixture.configuration)
        #expect(a.recovery.indexRebuilt)
        #expect(!a.recovery.leftoversRemoved.isEmpty)
        a.close()
        #expect(try await CompactFixture.verifyFull(between).status == 0)
        #expect(try ArchiveSnapshot.exportedHashes(between) == new)
        #expect(try ArchiveSnapshot.segmentFiles(between) == ArchiveSnapshot.segmentFiles(done))

        // 2. Old manifest, but the first segment already has the blocks of its neighbours appended (a merge in place).
        let merged = dir.path + "/merged"
        try fm.copyItem(atPath: path, toPath: merged)
        let mergedDone = dir.path + "/merged-done"
        try fm.copyItem(atPath: path, toPath: mergedDone)
        let r = try CompactFixture.report(try await CLI.run(["compact", "--archive", mergedDone, "--json"]))
        #expect(r.segmentsWritten >= 1)
        let first = try ArchiveSnapshot.segmentFiles(path)[0]
        let grown = try Data(contentsOf: URL(fileURLWithPath: mergedDone + "/segments/" + first))
        let original = try Data(contentsOf: URL(fileURLWithPath: merged + "/segments/" + first))
        #expect(grown.count > original.count)
        #expect(grown.prefix(original.count) == original)
        try grown.write(to: URL(fileURLWithPath: merged + "/segments/" + first))
        let b = try Archive(directory: merged, configuration: CompactFixture.configuration)
        #expect(b.recovery.cuts.count == 1)
        b.close()
        #expect(try await CompactFixture.verifyFull(merged).status == 0)
        #expect(try ArchiveSnapshot.exportedHashes(merged) == old)
        #expect(try ArchiveSnapshot.exportedHashes(mergedDone) == old)
        #expect(try await CompactFixture.verifyFull(mergedDone).status == 0)
    }

    @Test("applyRetention while appending loses no appended envelope")
    func concurrentWithAppends() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(1000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = try Archive(directory: path, configuration: CompactFixture.configuration)
        let cutoff = CompactFixture.base + 400
        let fresh = (0..<1500).map { CompactFixture.envelope(5000 + $0) }
        let appender = Task {
            for chunk in stride(from: 0, to: fresh.count, by: 25) {
                _ = try await archive.append(Array(fresh[chunk..<(chunk + 25)]))
            }
        }
        let querier = Task.detached {
            var pages = 0
            while pages < 200 {
                let page = try archive.query(EnvelopeFilter(from: cutoff, to: .max, topics: .all), limit: 50)
                for e in page.envelopes { #expect(e.sentTime >= cutoff) }
                pages += 1
            }
        }
        var removed = 0
        for _ in 0..<4 {
            removed += try await Task.detached { try archive.applyRetention(before: cutoff) }.value.envelopesRemoved
        }
        try await appender.value
        try await querier.value
        removed += try archive.applyRetention(before: cutoff).envelopesRemoved
        #expect(removed == 400)
        for e in fresh { #expect(try archive.contains(e)) }
        #expect(try archive.count() == envelopes.count - 400 + fresh.count)
        archive.close()
        let expected = Set(envelopes.filter { $0.sentTime >= cutoff }.map(\.hash) + fresh.map(\.hash))
        #expect(try ArchiveSnapshot.exportedHashes(path) == expected)
        let v = try await CompactFixture.verifyFull(path)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }

    @Test("serve --retention-days applies retention while serving")
    func serveRetention() async throws {
        let (dir, path, envelopes) = try await CompactFixture.build(600)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Keep the newest 100 envelopes: retention is "now - N days", so shift them into the last day.
        let now = UInt32(Date().timeIntervalSince1970)
        let recent = (0..<100).map { i in
            Envelope(expiry: now - 600 + UInt32(i) + 60, ttl: 60, topic: CompactFixture.topics[i % 5], data: [UInt8(i)], nonce: UInt64(i))
        }
        let w = try Archive(directory: path, configuration: CompactFixture.configuration)
        _ = try await w.append(recent)
        w.close()
        let server = try await ServerProcess(archive: URL(fileURLWithPath: path), arguments: ["--retention-days", "1", "--sync", "none"])
        var got = Set<[UInt8]>()
        for _ in 0..<100 {
            got = try ArchiveSnapshot.exportedHashes(path)
            if got.count == recent.count { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(await server.stop() == 0)
        #expect(got == Set(recent.map(\.hash)))
        #expect(try ArchiveSnapshot.exportedHashes(path) == Set(recent.map(\.hash)))
        #expect(envelopes.count == 600)
        let v = try await CompactFixture.verifyFull(path)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }

    @Test("usage errors exit 2")
    func usage() async throws {
        #expect(try await CLI.run(["compact", "--archive", "/nonexistent", "--before", "1", "--retention-days", "3"]).status == 2)
        #expect(try await CLI.run(["compact", "--archive", "/nonexistent", "--drop-topic", "xyz"]).status == 2)
        #expect(try await CLI.run(["compact", "--archive", "/nonexistent"]).status == 1)
    }
}

extension Archive {
    /// Opens the archive as the writer and closes it again.
    static func openAndClose(_ path: String) {
        if let a = try? Archive(directory: path, configuration: CompactFixture.configuration) { a.close() }
    }
}

extension Array where Element == UInt8 {
    var hexEncoded: String { map { String(format: "%02x", $0) }.joined() }
}
