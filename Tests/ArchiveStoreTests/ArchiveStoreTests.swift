import ArchiveStore
import CSQLite
import Foundation
import SQLite
import TestSupport
import Testing
import Whisper

@Suite("Archive store")
struct ArchiveStoreTests {
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    /// The index's log is checkpointed by a thread of its own while the archive is open (not inside the writer's
    /// commits), and is emptied when the archive closes: at rest the index is one file.
    @Test func indexLogIsCheckpointedInTheBackgroundAndEmptiedAtClose() async throws {
        let dir = try StoreFixtures.directory()
        var config = ArchiveConfiguration()
        config.indexCheckpointSeconds = 1
        let archive = try Archive(directory: dir, configuration: config)
        let envs = StoreFixtures.envelopes(3000, topics: StoreFixtures.topics)
        for chunk in stride(from: 0, to: envs.count, by: 100) { _ = try await archive.append(Array(envs[chunk..<(chunk + 100)])) }
        func size(_ name: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + name))?[.size] as? Int) ?? 0
        }
        var moved = false
        for _ in 0..<50 where !moved {
            try await Task.sleep(for: .milliseconds(100))
            moved = size("index.sqlite") > 64 * 1024  // 3000 rows reached the database file
        }
        #expect(moved, "index.sqlite is \(size("index.sqlite")) bytes, its log \(size("index.sqlite-wal"))")
        archive.close()
        #expect(size("index.sqlite-wal") == 0)
        let reopened = try Archive(directory: dir, configuration: .reader)
        #expect(try reopened.count() == 3000)
        reopened.close()
    }

    /// `close()` leaves the directory at rest when it returns, while the `Archive` object is still alive: the
    /// writer's index connection is closed, so SQLite has removed the log and shared-memory files.
    @Test func closeLeavesNoIndexLogBehind() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        _ = try await archive.append(StoreFixtures.envelopes(50, topics: StoreFixtures.topics))
        #expect(FileManager.default.fileExists(atPath: dir + "/index.sqlite-wal"), "a writer keeps the index in WAL mode")
        archive.close()
        for name in ["index.sqlite-wal", "index.sqlite-shm"] {
            #expect(!FileManager.default.fileExists(atPath: dir + "/" + name), "\(name) is still there after close()")
        }
        withExtendedLifetime(archive) {}
    }

    /// The writer commits index rows in intervals, not per append: its own reads still see every acknowledged
    /// append at once, and a reader in another `Archive` object sees them once the interval has passed.
    @Test func acknowledgedAppendsAreReadableAtOnceHereAndWithinTheCommitIntervalElsewhere() async throws {
        let dir = try StoreFixtures.directory()
        var config = ArchiveConfiguration()
        config.indexCommitMilliseconds = 300
        let archive = try Archive(directory: dir, configuration: config)
        defer { archive.close() }
        let reader = try Archive(directory: dir, configuration: .reader)
        defer { reader.close() }
        let envs = StoreFixtures.envelopes(500, topics: StoreFixtures.topics)
        for round in 0..<3 {
            let batch = Array(envs[(round * 100)..<(round * 100 + 100)])
            _ = try await archive.append(batch)
            let start = ContinuousClock.now
            #expect(try archive.count() == round * 100 + 100)
            #expect(try archive.query(.all, limit: 1000).envelopes.count == round * 100 + 100)
            var seen = try reader.count()
            while seen < round * 100 + 100 && ContinuousClock.now - start < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
                seen = try reader.count()
            }
            #expect(seen == round * 100 + 100, "round \(round): the reader saw \(seen) rows")
            #expect(ContinuousClock.now - start < .seconds(2))
        }
    }

    /// A writer that stopped right after a roll, before committing the index rows of the segment it sealed: a
    /// reader that finds no writer indexes the blocks past the mark, and touches no segment.
    @Test func aReaderWithoutWriterIndexesTheBlocksPastTheMark() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try StoreFixtures.smallArchive(at: dir, blockMaxBytes: 2048)
        let envs = StoreFixtures.envelopes(120, topics: StoreFixtures.topics)
        for chunk in stride(from: 0, to: envs.count, by: 10) { _ = try await archive.append(Array(envs[chunk..<(chunk + 10)])) }
        let segments = try archive.segments()
        archive.close()
        try #require(segments.count >= 2)
        let sealed = segments.dropLast()
        let active = segments.last!

        // The state such a crash leaves: the new active segment holds only its header, and the index has committed
        // nothing past the first block of the first sealed segment.
        let activePath = dir + "/segments/" + active.fileName
        #expect(truncate(activePath, 32) == 0)
        var db: OpaquePointer?
        #expect(sqlite3_open(dir + "/index.sqlite", &db) == SQLITE_OK)
        let first = sealed[sealed.startIndex].firstSequence
        let sql = """
            DELETE FROM entries WHERE seg > \(first) OR blk > 32 OR blk < -33;
            UPDATE meta SET value = \(first) WHERE name = 'hwm_segment';
            UPDATE meta SET value = 32 WHERE name = 'hwm_offset';
            """
        #expect(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK)
        sqlite3_close(db)
        func segmentBytes() throws -> [Data] {
            try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted()
                .map { try Data(contentsOf: URL(fileURLWithPath: dir + "/segments/" + $0)) }
        }
        let before = try segmentBytes()

        let reader = try Archive(directory: dir, configuration: .reader)
        defer { reader.close() }
        let kept = sealed.reduce(0) { $0 + $1.records }
        #expect(try reader.count() == kept)
        #expect(reader.recovery.entriesIndexed > 0)
        for e in envs.prefix(kept) { #expect(try reader.contains(e)) }
        #expect(try segmentBytes() == before)
    }

    @Test func appendDeduplicatesAndReadsBack() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = StoreFixtures.envelopes(200, topics: StoreFixtures.topics)
        let r1 = try await archive.append(envs)
        #expect(r1.added == 200 && r1.duplicates == 0)
        let r2 = try await archive.append(Array(envs[0..<50]) + Array(envs[0..<10]))
        #expect(r2.added == 0 && r2.duplicates == 60)
        #expect(try archive.count() == 200)
        for e in envs.prefix(20) {
            let got = try #require(try archive.envelope(for: e.key))
            #expect(got.rlp == e.rlp)
            #expect(got.hash == e.hash)
        }
    }

    /// Batches queued without waiting are stored in the order queued: a later batch's copies of an earlier one's
    /// envelopes are its duplicates, every time.
    @Test func queuedBatchesAreStoredAndAcknowledgedInTheOrderQueued() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = StoreFixtures.envelopes(2000, topics: StoreFixtures.topics, seed: 11)
        let batches = stride(from: 0, to: 1900, by: 100).map { Array(envs[$0..<($0 + 200)]) }
        let queued = try batches.map { try archive.enqueue($0) }
        for (i, pending) in queued.enumerated() {
            let r = try await pending.value()
            #expect(r.added == (i == 0 ? 200 : 100), "batch \(i)")
            #expect(r.duplicates == (i == 0 ? 0 : 100), "batch \(i)")
        }
        #expect(try archive.count() == 2000)
    }

    /// A batch that mixes new envelopes with stored ones and with repeats of its own, over many blocks and
    /// segments: each new envelope is stored once and found where the index says, and a rebuilt index is the same.
    @Test func aBatchMixingNewAndStoredEnvelopesStoresEachOnceWhereTheIndexPoints() async throws {
        let dir = try StoreFixtures.directory()
        let envs = StoreFixtures.envelopes(600, topics: StoreFixtures.topics, size: 200, seed: 7)
        do {
            let archive = try StoreFixtures.smallArchive(at: dir, blockMaxBytes: 2048)
            defer { archive.close() }
            // Every third envelope first, then all of them with each fifth one twice, shuffled.
            let stored = stride(from: 0, to: envs.count, by: 3).map { envs[$0] }
            #expect(try await archive.append(stored).added == stored.count)
            var rng = SplitMix(seed: 3)
            let mixed = (envs + stride(from: 0, to: envs.count, by: 5).map { envs[$0] }).shuffled(using: &rng)
            let r = try await archive.append(mixed)
            #expect(r.added == envs.count - stored.count)
            #expect(r.duplicates == mixed.count - r.added)
            #expect(try archive.count() == envs.count)
            for e in envs {
                let got = try #require(try archive.envelope(for: e.key))
                #expect(got.rlp == e.rlp)
            }
        }
        let archive = try StoreFixtures.smallArchive(at: dir, blockMaxBytes: 2048)
        defer { archive.close() }
        let report = try archive.reindex(dryRun: true)
        #expect(report.entries == envs.count)
        #expect(report.isClean, "\(report)")
    }

    /// An envelope too large for one block (64 MiB) fails its own batch, by name and size, before anything of that
    /// batch is written; other batches, before and after, are stored.
    @Test func anEnvelopeOverTheBlockLimitFailsOnlyItsBatch() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = StoreFixtures.envelopes(30, topics: StoreFixtures.topics)
        #expect(try await archive.append(Array(envs[0..<10])).added == 10)
        let huge = Envelope(
            expiry: 1_600_000_100,
            ttl: 50,
            topic: StoreFixtures.topics[0],
            data: [UInt8](repeating: 7, count: 64 << 20),
            nonce: 1
        )
        do {
            _ = try await archive.append(Array(envs[10..<20]) + [huge])
            Issue.record("an envelope of \(huge.rlp.count) bytes was accepted")
        } catch {
            #expect(error.code == .invalidEnvelope)
            #expect(error.message.contains("\(huge.rlp.count) bytes"), "\(error)")
        }
        #expect(try await archive.append(Array(envs[20..<30])).added == 10)
        #expect(try archive.count() == 20)
        #expect(try archive.envelope(for: envs[15].key) == nil)
        #expect(try archive.envelope(for: huge.key) == nil)
    }

    /// Concurrent appends share fsyncs (group commit): `groupSyncCount`, which `bench store` gives the plain file,
    /// counts at least one and at most one per append; without fsync it stays 0.
    @Test func concurrentAppendsShareTheirFsyncs() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = StoreFixtures.envelopes(4000, topics: StoreFixtures.topics)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: envs.count, by: 50) {
                group.addTask { _ = try await archive.append(Array(envs[chunk..<(chunk + 50)])) }
            }
            try await group.waitForAll()
        }
        #expect(try archive.count() == 4000)
        #expect((1...80).contains(archive.groupSyncCount), "\(archive.groupSyncCount) fsyncs for 80 appends")

        var config = ArchiveConfiguration()
        config.sync = .none
        let unsynced = try Archive(directory: try StoreFixtures.directory(), configuration: config)
        defer { unsynced.close() }
        _ = try await unsynced.append(Array(envs.prefix(100)))
        #expect(unsynced.groupSyncCount == 0)
    }

    @Test func queryOrderCursorAndBloom() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = StoreFixtures.envelopes(500, topics: StoreFixtures.topics, seed: 7)
        _ = try await archive.append(envs)
        let filters: [EnvelopeFilter] = [
            .all,
            EnvelopeFilter(from: 1_600_000_010, to: 1_600_000_050),
            EnvelopeFilter(from: 1_600_000_020, to: 1_600_000_020, topics: .list([StoreFixtures.topics[1]])),
            EnvelopeFilter(topics: .list(Array(StoreFixtures.topics[2..<5]))),
            EnvelopeFilter(topics: .bloom(Bloom(topics: [StoreFixtures.topics[3], StoreFixtures.topics[6]]))),
            EnvelopeFilter(topics: .bloom(.full)),
            EnvelopeFilter(topics: .list([])),
        ]
        for f in filters {
            let want = StoreFixtures.expected(envs, f)
            var got: [[UInt8]] = []
            var cursor: Cursor?
            repeat {
                let page = try archive.query(f, limit: 37, after: cursor)
                #expect(page.envelopes.count <= 37)
                got += page.envelopes.map(\.cursorBytes)
                if page.cursor != nil { #expect(page.envelopes.count == 37) }
                cursor = page.cursor
            } while cursor != nil
            if case .bloom(let b) = f.topics, !b.isFull {
                // A bloom may also select other topics whose bloom it covers; check the covered set.
                let want2 = StoreFixtures.expected(envs, f)
                #expect(got == want2)
            } else {
                #expect(got == want)
            }
        }
        // Exactly `limit` matches: no cursor.
        let all = StoreFixtures.expected(envs, .all)
        let page = try archive.query(.all, limit: all.count)
        #expect(page.cursor == nil && page.envelopes.count == all.count)
        let page2 = try archive.query(.all, limit: all.count - 1)
        #expect(page2.cursor?.bytes == all[all.count - 2])
    }

    @Test(arguments: [1, 2, 3, 5, 8])
    func paginationOverRandomArchives(seed: UInt64) async throws {
        var rng = SplitMix(seed: seed)
        let dir = try StoreFixtures.directory()
        let archive = try StoreFixtures.smallArchive(at: dir, blockMaxBytes: 4096)
        defer { archive.close() }
        let n = Int.random(in: 50...800, using: &rng)
        let topics = Array(StoreFixtures.topics.prefix(Int.random(in: 1...8, using: &rng)))
        let envs = StoreFixtures.envelopes(n, sentRange: 1000...(1000 + UInt32.random(in: 0...50, using: &rng)), topics: topics, seed: seed)
        for chunk in stride(from: 0, to: n, by: 97) { _ = try await archive.append(Array(envs[chunk..<min(n, chunk + 97)])) }
        for _ in 0..<6 {
            let from = UInt32.random(in: 990...1030, using: &rng)
            let to = from + UInt32.random(in: 0...40, using: &rng)
            let sel = topics.filter { _ in Bool.random(using: &rng) }
            let filter = EnvelopeFilter(from: from, to: to, topics: Bool.random(using: &rng) ? .all : .list(sel))
            let unbounded = try archive.query(filter, limit: 1_000_000)
            #expect(unbounded.cursor == nil)
            #expect(unbounded.envelopes.map(\.cursorBytes) == StoreFixtures.expected(envs, filter))
            let limit = Int.random(in: 1...60, using: &rng)
            var got: [[UInt8]] = []
            var cursor: Cursor?
            repeat {
                let page = try archive.query(filter, limit: limit, after: cursor)
                got += page.envelopes.map(\.cursorBytes)
                cursor = page.cursor
            } while cursor != nil
            #expect(got == unbounded.envelopes.map(\.cursorBytes))
        }
        #expect(try archive.segments().count > 1)
    }

    @Test func paginationWhileAnotherTaskAppends() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let base = StoreFixtures.envelopes(600, sentRange: 5000...5100, topics: StoreFixtures.topics, seed: 11)
        _ = try await archive.append(base)
        let extra = StoreFixtures.envelopes(600, sentRange: 5000...5100, topics: StoreFixtures.topics, seed: 12)
        let before = try archive.query(.all, limit: 100_000).envelopes.map(\.cursorBytes)
        let appender = Task {
            for chunk in stride(from: 0, to: extra.count, by: 20) { _ = try await archive.append(Array(extra[chunk..<(chunk + 20)])) }
        }
        var got: [[UInt8]] = []
        var cursor: Cursor?
        repeat {
            let page = try archive.query(.all, limit: 13, after: cursor)
            got += page.envelopes.map(\.cursorBytes)
            cursor = page.cursor
            await Task.yield()
        } while cursor != nil
        try await appender.value
        // Strictly ascending (no duplicate), and nothing stored before paging began is missing (no gap).
        #expect(zip(got, got.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) })
        #expect(Set(before).isSubset(of: Set(got)))
        let extraKeys = Set(extra.map { Array($0.key.bytes[0..<36]) })
        #expect(Set(got).subtracting(before).isSubset(of: extraKeys))
    }

    @Test func secondWriterIsLockedOutReadersAreNot() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        _ = try await archive.append(StoreFixtures.envelopes(10, topics: StoreFixtures.topics))
        do {
            _ = try Archive(directory: dir)
            Issue.record("a second writer opened the archive")
        } catch {
            #expect(error.code == .locked)
            #expect(error.description.contains("is in use by process \(ProcessInfo.processInfo.processIdentifier)"))
        }
        // The writer's own query commits its rows, so that another reader sees them.
        #expect(try archive.count() == 10)
        let reader = try Archive(directory: dir, configuration: .reader)
        #expect(try reader.count() == 10)
        _ = try await archive.append(StoreFixtures.envelopes(5, topics: StoreFixtures.topics, seed: 99))
        #expect(try archive.count() == 15)
        // Another reader sees the rows once the writer commits them (within indexCommitMilliseconds).
        let start = ContinuousClock.now
        while try reader.count() < 15, ContinuousClock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try reader.query(.all, limit: 100).envelopes.count == 15)
        var scanned = 0
        try reader.scan { _ in scanned += 1 }
        #expect(scanned == 15)
    }

    @Test func tornTailIsCutAndNothingAcknowledgedIsLost() async throws {
        let dir = try StoreFixtures.directory()
        let envs = StoreFixtures.envelopes(300, topics: StoreFixtures.topics, seed: 3)
        do {
            let archive = try Archive(directory: dir)
            _ = try await archive.append(envs)
            archive.close()
        }
        let segs = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted()
        let path = dir + "/segments/" + segs.last!
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let size = try handle.seekToEnd()
        // A torn block: a plausible header and half a payload.
        try handle.write(contentsOf: Data("WBLK".utf8) + Data(repeating: 7, count: 100))
        try handle.close()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        #expect(archive.recovery.cuts.count == 1)
        #expect(archive.recovery.cuts.first?.range == Int64(size)..<Int64(size + 104))
        #expect(try archive.count() == 300)
        let report = try archive.reindex(dryRun: true)
        #expect(report.isClean && report.entries == 300)
        // Appends continue after the cut.
        let more = try await archive.append(StoreFixtures.envelopes(5, topics: StoreFixtures.topics, seed: 4))
        #expect(more.added == 5)
    }

    /// The writer commits index rows before the fsync that makes their blocks durable; a power failure in between
    /// leaves an index that names blocks the segment lost. Opening removes exactly those rows.
    @Test func indexRowsOfBlocksLostBeforeTheirSyncAreRemoved() async throws {
        let dir = try StoreFixtures.directory()
        let first = StoreFixtures.envelopes(200, topics: StoreFixtures.topics, seed: 21)
        let second = StoreFixtures.envelopes(150, topics: StoreFixtures.topics, seed: 22)
        let cut: UInt64
        do {
            let archive = try Archive(directory: dir)
            _ = try await archive.append(first)
            cut = try #require(archive.segments().last).bytes.magnitude
            _ = try await archive.append(second)
            archive.close()
        }
        let segs = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted()
        #expect(truncate(dir + "/segments/" + segs.last!, off_t(cut)) == 0)
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        #expect(archive.recovery.entriesRemoved == StoreFixtures.expected(second, .all).count)
        #expect(try archive.count() == StoreFixtures.expected(first, .all).count)
        #expect(try archive.query(.all, limit: 1000).envelopes.map(\.cursorBytes) == StoreFixtures.expected(first, .all))
        #expect(try archive.reindex(dryRun: true).isClean)
        #expect(try archive.topics().reduce(0) { $0 + $1.count } == StoreFixtures.expected(first, .all).count)
        let again = try await archive.append(second)
        #expect(again.added == StoreFixtures.expected(second, .all).count)
    }

    @Test func indexIsRebuiltWhenMissingOrBehind() async throws {
        let dir = try StoreFixtures.directory()
        let envs = StoreFixtures.envelopes(250, topics: StoreFixtures.topics, seed: 5)
        do {
            let archive = try Archive(directory: dir)
            _ = try await archive.append(envs)
            archive.close()
        }
        for f in ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm"] { try? FileManager.default.removeItem(atPath: dir + "/" + f) }
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        #expect(archive.recovery.entriesIndexed == 250)
        #expect(try archive.query(.all, limit: 1000).envelopes.map(\.cursorBytes) == StoreFixtures.expected(envs, .all))
        let r = try archive.reindex(topics: [StoreFixtures.topics[0]])
        #expect(r.isClean)
    }

    /// An index of another build's schema is derived data: a writer drops it, rebuilds it from the segments and says
    /// so; a reader refuses it, naming the file and what to run.
    @Test func anIndexOfAnotherSchemaIsRebuiltByAWriterAndRefusedByAReader() async throws {
        let dir = try StoreFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let envs = StoreFixtures.envelopes(250, topics: StoreFixtures.topics, seed: 6)
        do {
            let archive = try Archive(directory: dir)
            _ = try await archive.append(envs)
            archive.close()
        }
        try SQLiteDatabase(path: dir + "/index.sqlite").execute("UPDATE meta SET value = 2 WHERE name = 'schema'")
        let export = try await CLI.run(["export", "--archive", dir, "--format", "rlp", "--output", dir + "/x.rlp"])
        #expect(export.status == 1)
        #expect(export.stderr.contains("index.sqlite") && export.stderr.contains("schema 2"), "\(export.stderr)")

        let archive = try Archive(directory: dir)
        defer { archive.close() }
        #expect(archive.recovery.indexRebuilt)
        #expect(archive.recovery.entriesIndexed == 250)
        #expect(try archive.query(.all, limit: 1000).envelopes.map(\.cursorBytes) == StoreFixtures.expected(envs, .all))
        #expect(try archive.reindex(dryRun: true).isClean)
    }

    @Test func compressibleBlocksUseLZ4AndReadBack() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = (0..<100).map { i in
            Envelope(
                expiry: 2000 + UInt32(i),
                ttl: 50,
                topic: StoreFixtures.topics[i % 3],
                data: [UInt8](repeating: UInt8(i % 4), count: 900),
                nonce: UInt64(i)
            )
        }
        _ = try await archive.append(envs)
        let totals = archive.compressionTotals
        #expect(totals.stored < totals.raw / 2)
        let page = try archive.query(.all, limit: 1000)
        #expect(Set(page.envelopes.map(\.rlp)) == Set(envs.map(\.rlp)))
        #expect(try archive.reindex(dryRun: true).isClean)
    }

    @Test func concurrentAppendsShareGroupCommits() async throws {
        let dir = try StoreFixtures.directory()
        let archive = try Archive(directory: dir)
        defer { archive.close() }
        let envs = StoreFixtures.envelopes(2000, topics: StoreFixtures.topics, seed: 21)
        try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for c in 0..<20 { group.addTask { try await archive.append(Array(envs[(c * 100)..<(c * 100 + 100)])) } }
            var added = 0
            for try await r in group { added += r.added }
            #expect(added == 2000)
        }
        #expect(try archive.count() == 2000)
    }
}
