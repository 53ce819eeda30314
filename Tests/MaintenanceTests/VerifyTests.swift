import ArchiveStore
import ArchiveTestSupport
import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// A small archive with many segments and blocks, and readers of its bytes that follow docs/FORMAT.md.
enum Fixture {
    static func build(_ count: Int = 1500) async throws -> (dir: URL, archive: String, envelopes: [Envelope]) {
        let dir = try CLI.temporaryDirectory("wa-verify")
        let path = dir.path + "/archive"
        var config = ArchiveConfiguration()
        config.segmentMaxBytes = 48 << 10
        config.blockMaxBytes = 6 << 10
        config.compression = false
        config.sync = .none
        var rng = SystemRandomNumberGenerator()
        let topics = (0..<5).map { Topic(rawValue: 0x1000_0000 + UInt32($0)) }
        let envelopes = (0..<count).map { i in
            Envelope(
                expiry: 1_700_000_000 + UInt32(i) + 60,
                ttl: 60,
                topic: topics[i % 5],
                data: (0..<(100 + i % 200)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                nonce: UInt64(i)
            )
        }
        let archive = try Archive(directory: path, configuration: config)
        for chunk in stride(from: 0, to: count, by: 100) { _ = try await archive.append(Array(envelopes[chunk..<min(count, chunk + 100)])) }
        archive.close()
        return (dir, path, envelopes)
    }

    /// The blocks of a segment file (offset, length, record hashes), parsed from the documented layout.
    static func blocks(_ file: String) throws -> [(offset: Int, length: Int, hashes: [[UInt8]])] {
        let b = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        func u32(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
        var out: [(Int, Int, [[UInt8]])] = []
        var o = 32
        while o + 32 <= b.count {
            let stored = u32(o + 8)
            let count = u32(o + 24)
            #expect(b[o + 28] == 0)  // raw codec: compression is off in the fixture
            var p = o + 32
            var hashes: [[UInt8]] = []
            for _ in 0..<count {
                let len = u32(p)
                hashes.append(Keccak256.hash(Array(b[(p + 8)..<(p + 8 + len)])))
                p += 8 + len
            }
            out.append((o, 32 + stored, hashes))
            o += 32 + stored
        }
        return out
    }

    struct Finding: Decodable {
        var event: String
        var category: String?
        var kind: String?
        var file: String?
        var start: Int64?
        var end: Int64?
        var hashes: [String]?
        var exitCode: Int32?
    }

    static func verify(_ path: String, _ extra: [String] = []) async throws -> (status: Int32, findings: [Finding], summary: Finding?) {
        let r = try await CLI.run(["verify", "--archive", path, "--json"] + extra)
        let events = r.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Finding.self, from: Data($0.utf8)) }
        return (r.status, events.filter { $0.event == "finding" }, events.last { $0.event == "summary" })
    }

    /// Every envelope hash a paged query (limit 97) returns, and the damage its pages report.
    static func pageThrough(_ archive: Archive) throws -> (hashes: Set<[UInt8]>, damaged: [DamagedBlock]) {
        var hashes = Set<[UInt8]>()
        var damaged: [DamagedBlock] = []
        var cursor: Cursor?
        repeat {
            let page = try archive.query(.all, limit: 97, after: cursor)
            hashes.formUnion(page.envelopes.map(\.hash))
            damaged += page.damaged
            cursor = page.cursor
        } while cursor != nil
        return (hashes, damaged)
    }

    static func flip(_ file: String, at offset: Int) throws {
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        try h.seek(toOffset: UInt64(offset))
        let byte = try h.read(upToCount: 1)![0]
        try h.seek(toOffset: UInt64(offset))
        try h.write(contentsOf: [byte ^ 0x5A])
        try h.close()
    }
}

@Suite("VerifyTests", .serialized)
struct VerifyTests {
    @Test func cleanArchiveVerifiesClean() async throws {
        let f = try await Fixture.build(400)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        for mode in [[], ["--full"]] {
            let v = try await Fixture.verify(f.archive, mode)
            #expect(v.status == 0)
            #expect(v.findings.isEmpty)
        }
        let human = try await CLI.run(["verify", "--archive", f.archive])
        #expect(human.status == 0 && human.stdout.hasPrefix("clean"))
    }

    @Test(arguments: 0..<4) func byteFlipsInSegmentsAreFoundAndRepaired(seed: Int) async throws {
        let f = try await Fixture.build()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try ArchiveSnapshot.exportedHashes(f.archive)
        #expect(before.count == f.envelopes.count)
        let segs = try ArchiveSnapshot.segmentFiles(f.archive)
        #expect(segs.count >= 5)
        let name = segs[(seed * 3 + 1) % (segs.count - 1)]  // a sealed segment
        let file = f.archive + "/segments/" + name
        let blocks = try Fixture.blocks(file)
        let block = blocks[(seed * 7) % blocks.count]
        let offset = block.offset + 1 + (seed * 977) % (block.length - 1)
        try Fixture.flip(file, at: offset)

        for mode in [[], ["--full"]] {
            let v = try await Fixture.verify(f.archive, mode)
            #expect(v.status == 5, "\(mode)")  // 1 | 4: data damaged
            let hit = v.findings.first { $0.file == "segments/" + name && ($0.start ?? -1) <= Int64(offset) && Int64(offset) < ($0.end ?? -1) }
            #expect(hit != nil, "no finding names \(name) at \(offset): \(v.findings.map { "\($0.kind ?? "") \($0.file ?? "") \($0.start ?? -1)" })")
            #expect(hit?.start == Int64(block.offset))
            #expect(Set(hit?.hashes ?? []) == Set(block.hashes.map(\.hex)))
        }
        // Export and queries skip the damaged block with a warning naming it, and keep everything else.
        let damagedOut = f.dir.path + "/damaged.jsonl"
        let export = try await CLI.run(["export", "--archive", f.archive, "--format", "jsonl", "--output", damagedOut])
        #expect(export.status == 1, "export: \(export.stderr)")
        #expect(export.stderr.contains(name) && export.stderr.contains("\(block.offset)..<"), "\(export.stderr)")
        let lines = try String(contentsOfFile: damagedOut, encoding: .utf8).split(separator: "\n")
        let exportedHashes = Set(
            lines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))).flatMap { ($0 as? [String: Any])?["hash"] as? String }
            }
        )
        #expect(exportedHashes == Set(before.subtracting(block.hashes).map { "0x" + $0.hex }))
        let reader = try Archive(directory: f.archive, configuration: .reader)
        // The start-up check (serve runs it in the background) finds exactly the damaged block and walks every
        // block; queries after it still skip the damaged block.
        let checked = try reader.checkBlocks()
        #expect(checked.damaged.count == 1)
        #expect(checked.damaged.first.map { $0.path.hasSuffix(name) && $0.range == Int64(block.offset)..<Int64(block.offset + block.length) } == true)
        let allBlockBytes = try segs.reduce(0) { $0 + (try Fixture.blocks(f.archive + "/segments/" + $1)).reduce(0) { $0 + $1.length } }
        #expect(checked.bytes == Int64(allBlockBytes))
        let (queried, damaged) = try Fixture.pageThrough(reader)
        reader.close()
        #expect(queried == before.subtracting(block.hashes))
        #expect(damaged.contains { $0.path.hasSuffix(name) && $0.range.lowerBound == Int64(block.offset) })

        let r = try await Fixture.verify(f.archive, ["--repair"])
        #expect(r.status == 1 | 4 | 64)
        #expect(try await Fixture.verify(f.archive, ["--full"]).status == 0)
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == before.subtracting(block.hashes))
        let q = try FileManager.default.contentsOfDirectory(atPath: f.archive + "/quarantine")
        #expect(q.count == 1)
    }

    @Test func truncatedSegmentLosesOnlyTheCutBlocks() async throws {
        let f = try await Fixture.build()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try ArchiveSnapshot.exportedHashes(f.archive)
        let name = try ArchiveSnapshot.segmentFiles(f.archive)[2]
        let file = f.archive + "/segments/" + name
        let blocks = try Fixture.blocks(file)
        let cut = blocks[blocks.count / 2].offset + 40
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        try h.truncate(atOffset: UInt64(cut))
        try h.close()
        let v = try await Fixture.verify(f.archive)
        #expect(v.status & 4 != 0 && v.status & 1 != 0)
        #expect(v.findings.contains { $0.kind == "truncated-segment" && $0.file == "segments/" + name })
        #expect(v.findings.contains { $0.kind == "torn-tail" && $0.start == Int64(blocks[blocks.count / 2].offset) })
        _ = try await Fixture.verify(f.archive, ["--repair"])
        #expect(try await Fixture.verify(f.archive, ["--full"]).status == 0)
        let lost = blocks[(blocks.count / 2)...].flatMap(\.hashes)
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == before.subtracting(lost))
    }

    @Test func deletedSegmentIsReportedMissing() async throws {
        let f = try await Fixture.build()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try ArchiveSnapshot.exportedHashes(f.archive)
        let name = try ArchiveSnapshot.segmentFiles(f.archive)[1]
        let lost = try Fixture.blocks(f.archive + "/segments/" + name).flatMap(\.hashes)
        try FileManager.default.removeItem(atPath: f.archive + "/segments/" + name)
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == before.subtracting(lost))
        let export = try await CLI.run(["export", "--archive", f.archive, "--format", "rlp", "--output", f.dir.path + "/rest.rlp"])
        #expect(export.status == 1 && export.stderr.contains(name) && export.stderr.contains("missing"), "\(export.stderr)")
        // Audit reports what it could not read, and exits 1 after the report.
        let audit = try await CLI.run(["audit", "--archive", f.archive, "--json"])
        #expect(audit.status == 1 && audit.stderr.contains("skipped"), "\(audit.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any]
        let skipped = report?["skipped"] as? [[String: Any]] ?? []
        #expect(skipped.count == 1 && (skipped.first?["file"] as? String)?.hasSuffix(name) == true, "\(skipped)")
        #expect(report?["envelopes"] as? Int == before.count - lost.count)
        // A paged query skips the missing file's envelopes and reports it once, like export.
        let reader = try Archive(directory: f.archive, configuration: .reader)
        let (queried, damaged) = try Fixture.pageThrough(reader)
        reader.close()
        #expect(queried == before.subtracting(lost))
        #expect(damaged.contains { $0.path.hasSuffix(name) && $0.reason.contains("missing") })
        let v = try await Fixture.verify(f.archive)
        #expect(v.status == 1 | 8 | 16)
        #expect(v.findings.contains { $0.kind == "missing-segment" && $0.file == "segments/" + name })
        #expect(v.findings.contains { $0.kind == "index-dangling" && Set($0.hashes ?? []) == Set(lost.map(\.hex)) })
        _ = try await Fixture.verify(f.archive, ["--repair"])
        #expect(try await Fixture.verify(f.archive, ["--full"]).status == 0)
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == before.subtracting(lost))
    }

    @Test func staleManifestIsReportedAndRebuilt() async throws {
        let f = try await Fixture.build()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try ArchiveSnapshot.exportedHashes(f.archive)
        // A manifest that lists only the first two segments, as an old copy would.
        let mpath = f.archive + "/MANIFEST"
        var m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mpath))) as! [String: Any]
        m["segments"] = Array((m["segments"] as! [Any]).prefix(2))
        try JSONSerialization.data(withJSONObject: m).write(to: URL(fileURLWithPath: mpath))
        let v = try await Fixture.verify(f.archive)
        #expect(v.status & 32 != 0 && v.status & 1 != 0)
        #expect(v.findings.contains { $0.kind == "unlisted-segment" })
        _ = try await Fixture.verify(f.archive, ["--repair"])
        #expect(try await Fixture.verify(f.archive, ["--full"]).status == 0)
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == before)
    }

    @Test func damagedIndexIsFoundAndRebuilt() async throws {
        let f = try await Fixture.build()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try ArchiveSnapshot.exportedHashes(f.archive)
        // Flip a byte inside one stored key (sent time ‖ hash) in the SQLite file.
        let victim = f.envelopes[777]
        let ipath = f.archive + "/index.sqlite"
        try await CLI.tool(URL(fileURLWithPath: "/usr/bin/env"), ["sqlite3", ipath, "PRAGMA wal_checkpoint(TRUNCATE);"])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: ipath)))
        let needle = Array(victim.key.bytes[0..<36])
        let at = try #require((0..<(bytes.count - 36)).first { bytes[$0] == needle[0] && Array(bytes[$0..<($0 + 36)]) == needle })
        bytes[at + 20] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: ipath))
        let v = try await Fixture.verify(f.archive, ["--full"])
        #expect(v.status & 8 != 0 && v.status & 1 != 0)
        #expect(v.findings.contains { $0.category == "index" && ($0.hashes ?? []).contains(victim.hash.hex) })
        // Only a full check recomputes hashes, so only --full --repair sees (and repairs) a flipped hash.
        let repaired = try await Fixture.verify(f.archive, ["--full", "--repair"])
        #expect(repaired.status & 64 != 0)
        #expect(try await Fixture.verify(f.archive, ["--full"]).status == 0)
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == before)
    }
}
