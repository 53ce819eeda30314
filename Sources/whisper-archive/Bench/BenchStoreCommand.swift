import ArchiveFormats
import ArchiveStore
import ArgumentParser
import EthCrypto
import Foundation
import SQLite
import Whisper

/// `whisper-archive bench store`: the archive store against status-go's schema in SQLite, on the same data.
struct BenchStoreCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Durable ingest, request pages, export, size and memory of the archive store vs. a SQLite baseline.",
        discussion: """
            One run, side by side, in one process: the archive store (segments + index) and the \
            baseline, status-go's envelopes table in SQLite (WAL, prepared statements, batched \
            transactions). Ingest is also compared with writing the same bytes to a plain file \
            with the same fsync policy and as many fsyncs as the store ran (the physical limit), \
            timed after the archive has closed and the kernel has written back the store's bytes; \
            the store's ingest and the baseline each wait for the same first. Memory is the peak RSS of a child \
            `whisper-archive import` of the same envelopes. Request pages are timed after the \
            archive's block checksums have been checked once, as `serve` does in the background \
            when it starts.

            Example:
              swift build -c release && .build/release/whisper-archive bench store --count 1000000
            """
    )

    @Option(help: "Envelopes to store (1 KiB each).")
    var count = 1_000_000

    @Option(help: "Envelopes per append batch.")
    var batch = 1000

    @Option(help: "Concurrent appenders.")
    var writers = 4

    @Option(help: "Distinct topics.")
    var topics = 100

    @Option(help: "fsync policy of the store and of the plain-file limit: always, none or interval:MS.")
    var sync: SyncPolicy = .always

    @Option(help: "Requests to time on the archive: a first page and, when more remain, its cursor page each.")
    var requests = 5000

    @Option(help: "How many of the same requests the baseline answers (its pages take about 300 ms each).")
    var baselineRequests = 100

    @Option(help: "The engine: archive (the embedded store against SQLite), or postgres (against status-go's PostgreSQL access pattern).")
    var engine: BenchEngine = .archive

    @Option(name: .customLong("postgres-url"), help: ArgumentHelp("With --engine postgres: an empty database to work in.", valueName: "url"))
    var postgresURL: String?

    @Option(help: "With --engine postgres: how many envelopes status-go's one-INSERT-per-envelope ingest stores for its rate.")
    var baselineInserts = 20_000

    @OptionGroup var directoryOption: BenchDirectoryOptions<FreshBenchDirectory>

    @Flag(help: "Skip the child-process memory measurement.")
    var skipMemory = false

    @OptionGroup var output: BenchOutputOptions

    func validate() throws {
        if engine == .postgres && postgresURL == nil { throw ValidationError("--engine postgres needs --postgres-url") }
        if baselineInserts < 1 { throw ValidationError("--baseline-inserts must be at least 1") }
        if count < 10_000 { throw ValidationError("--count must be at least 10000") }
        if batch < 1 || writers < 1 || topics < 10 || requests < 1 || baselineRequests < 1 {
            throw ValidationError("--batch, --writers, --requests, --baseline-requests ≥ 1, --topics ≥ 10")
        }
    }

    struct Figure: Encodable {
        var name: String
        var value: Double
        var unit: String
        var baseline: Double?
        var note: String?
    }

    func run() async throws {
        if engine == .postgres, let postgresURL {
            try await runPostgres(url: postgresURL)
            return
        }
        let work = try directoryOption.workDirectory(prefix: "wa-bench")
        defer { work.removeIfTemporary() }
        var figures: [Figure] = []
        let note = output.note

        // Data: 1 KiB envelopes over 7 days, `topics` topics.
        note("generating \(count) envelopes…")
        let topicList = BenchEnvelopes.topics(topics)
        let t0: UInt32 = 1_700_000_000
        let span: UInt32 = 7 * 86_400
        var data = BenchEnvelopes(count: count, topics: topicList, start: t0, span: UInt64(span))
        var envelopes = (0..<count).map { data.envelope($0) }
        let rlpBytes = envelopes.reduce(0) { $0 + $1.rlp.count }
        let batches = stride(from: 0, to: count, by: batch).map { Array(envelopes[$0..<min(count, $0 + batch)]) }

        // 1. Durable ingest: the archive store, the plain-file limit, the baseline.
        let dir = work.file("archive")
        var config = ArchiveConfiguration()
        config.sync = sync
        let ingest = try await ingestStore(batches, directory: dir, configuration: config)
        note(String(format: "store ingest: %.0f envelopes/s", ingest.rate))
        let plain = plainFileLimit(batches, path: work.file("plain.bin"), storeSyncs: ingest.syncs)
        note(String(format: "plain file: %.0f envelopes/s (%.0f MB/s)", plain.rate, Double(rlpBytes) / plain.seconds / 1e6))
        Self.waitForWriteBack()
        let (base, baseline) = try baselineIngest(batches, path: work.file("baseline.sqlite"))
        let archive = try Archive(directory: dir, configuration: config)
        figures.append(
            Figure(
                name: "ingest_1KiB_sync_\(sync)",
                value: ingest.rate,
                unit: "envelopes/s",
                baseline: baseline,
                note: String(
                    format: "%.1fx baseline; %.0f%% of the plain-file limit (%.0f/s, %.0f MB/s, an fsync every %d of %d batches, as the store's %d)",
                    ingest.rate / baseline,
                    100 * ingest.rate / plain.rate,
                    plain.rate,
                    Double(rlpBytes) / plain.seconds / 1e6,
                    plain.syncEvery,
                    batches.count,
                    ingest.syncs
                )
                    + (ingest.written.map { String(format: "; wrote %.2f bytes per RLP byte", Double($0) / Double(rlpBytes)) } ?? "")
            )
        )

        // 2. Request pages: 24 h window, 10 topics, limit 1000.
        figures += try timeRequests(archive: archive, baseline: base, topics: topicList, start: t0, span: span)

        // 3. Export (rlp) and size on disk.
        let exportStart = Date()
        let exported = try await Exporter.run(store: archive, filter: .all, format: .rlp, path: work.file("export.rlp"))
        let exportSeconds = Date().timeIntervalSince(exportStart)
        try? FileManager.default.removeItem(atPath: work.file("export.rlp"))
        figures.append(Figure(name: "export_rlp", value: Double(exported.bytes) / exportSeconds / 1e6, unit: "MB/s", baseline: nil, note: nil))
        archive.close()
        let onDisk = directorySize(dir)
        let baseSize = directorySize(work.path, only: "baseline.sqlite")
        figures.append(
            Figure(
                name: "size_on_disk_vs_raw_rlp",
                value: 100 * Double(onDisk) / Double(rlpBytes) - 100,
                unit: "% over raw RLP",
                baseline: 100 * Double(baseSize) / Double(rlpBytes) - 100,
                note: "\(onDisk) bytes for \(rlpBytes) bytes of RLP, index included"
            )
        )
        figures.append(
            Figure(
                name: "lz4_ratio",
                value: Double(ingest.totals.stored) / Double(max(1, ingest.totals.raw)),
                unit: "stored/raw",
                baseline: nil,
                note: "per-block LZ4, kept only where it saves ≥ 1/16"
            )
        )

        // 4. Memory: a child `whisper-archive import` of the same envelopes.
        if !skipMemory {
            note("measuring import memory…")
            envelopes.removeAll()
            figures.append(try importMemory(batches, input: work.file("input.rlp"), archive: work.file("archive2")))
        }

        print(figures: figures)
    }

    /// The figures as one JSON line, or a table.
    func print(figures: [Figure]) {
        if output.json {
            Swift.print(jsonLine(figures))
        } else {
            Swift.print("figure                          ours            baseline        note")
            for f in figures {
                let b = f.baseline.map { String(format: "%.2f", $0) } ?? "-"
                Swift.print(
                    String(
                        format: "%-30@  %-14@  %-14@  %@",
                        f.name as NSString,
                        (String(format: "%.2f ", f.value) + f.unit) as NSString,
                        b as NSString,
                        (f.note ?? "") as NSString
                    )
                )
            }
        }
    }

    /// The store's durable ingest by `writers` concurrent appenders; the archive is closed and the disk has
    /// settled when it returns.
    func ingestStore(
        _ batches: [[Envelope]],
        directory: String,
        configuration: ArchiveConfiguration
    ) async throws
        -> (rate: Double, syncs: Int, written: Int64?, totals: (raw: Int64, stored: Int64))
    {
        let ingesting = try Archive(directory: directory, configuration: configuration)
        let writers = self.writers
        // Like the plain file and the baseline, ingest starts on a disk that has written back earlier work.
        Self.waitForWriteBack()
        let writtenBefore = Self.bytesWrittenToStorage()
        let syncsBefore = ingesting.groupSyncCount
        let ingestStart = Date()
        try await Self.append(batches, to: ingesting, writers: writers)
        let ingestSeconds = Date().timeIntervalSince(ingestStart)
        // Everything ingest sent towards the disk: segments, the index's log and its checkpoints.
        let ingestWritten = Self.bytesWrittenToStorage().flatMap { after in writtenBefore.map { after - $0 } }
        let syncs = ingesting.groupSyncCount - syncsBefore
        let totals = ingesting.compressionTotals
        // The store's background work (index checkpoints) and the kernel's write-back of its bytes must not run
        // while the plain file and the baseline are timed: the archive closes, and the disk settles first.
        ingesting.close()
        Self.waitForWriteBack()
        return (Double(count) / ingestSeconds, syncs, ingestWritten, totals)
    }

    /// Appends `batches` to `store` by `writers` concurrent appenders, each taking every `writers`-th batch.
    static func append(_ batches: [[Envelope]], to store: any EnvelopeStore, writers: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    var i = w
                    while i < batches.count {
                        _ = try await store.append(batches[i])
                        i += writers
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Physical limit: the same bytes to a plain file with as many fsyncs as the store ran (its concurrent
    /// appends share one: group commit), so that the limit is not lowered by syncing more often than the store.
    private func plainFileLimit(
        _ batches: [[Envelope]],
        path plainPath: String,
        storeSyncs: Int
    )
        -> (rate: Double, seconds: Double, syncEvery: Int)
    {
        let syncEvery = sync == .always ? max(1, Int((Double(batches.count) / Double(max(1, storeSyncs))).rounded())) : 1
        _ = FileManager.default.createFile(atPath: plainPath, contents: nil)
        let fd = open(plainPath, O_WRONLY | O_APPEND)
        let plainStart = Date()
        var lastSync = plainStart
        // One buffer for every batch, so that the loop pays for copying the bytes but not for fresh pages.
        var buf: [UInt8] = []
        buf.reserveCapacity(batch * 1100)
        for (i, b) in batches.enumerated() {
            buf.removeAll(keepingCapacity: true)
            for e in b { buf.append(contentsOf: e.rlp) }
            _ = buf.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            switch sync {
            case .always: if (i + 1) % syncEvery == 0 || i == batches.count - 1 { fdatasync(fd) }
            case .interval(let ms):
                if Date().timeIntervalSince(lastSync) * 1000 >= Double(ms) {
                    fdatasync(fd)
                    lastSync = Date()
                }
            case .none: break
            }
        }
        let plainSeconds = Date().timeIntervalSince(plainStart)
        close(fd)
        try? FileManager.default.removeItem(atPath: plainPath)
        return (Double(count) / plainSeconds, plainSeconds, syncEvery)
    }

    /// Baseline ingest: status-go's schema in SQLite; returns the database (for the request pages) and its rate.
    private func baselineIngest(_ batches: [[Envelope]], path basePath: String) throws -> (SQLiteDatabase, Double) {
        let base = try SQLiteDatabase(path: basePath)
        try base.execute(
            """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
            CREATE TABLE envelopes (id BLOB PRIMARY KEY, data BLOB NOT NULL, topic BLOB NOT NULL, bloom BLOB NOT NULL);
            CREATE INDEX id_bloom_idx ON envelopes (id DESC, bloom);
            CREATE INDEX id_topic_idx ON envelopes (id DESC, topic);
            CREATE INDEX topic_idx ON envelopes (topic);
            """
        )
        let ins = try base.prepare("INSERT OR IGNORE INTO envelopes (id, data, topic, bloom) VALUES (?1, ?2, ?3, ?4)")
        let baseStart = Date()
        for b in batches {
            try base.execute("BEGIN")
            for e in b {
                ins.bind(1, blob: e.key.bytes)
                ins.bind(2, blob: e.rlp)
                ins.bind(3, blob: e.topic.bytes)
                ins.bind(4, blob: e.bloom.bytes)
                try ins.run()
            }
            try base.execute("COMMIT")
        }
        return (base, Double(count) / Date().timeIntervalSince(baseStart))
    }

    /// The first and the cursor page of the same random questions, from the archive and from the baseline.
    private func timeRequests(
        archive: Archive,
        baseline base: SQLiteDatabase,
        topics topicList: [Topic],
        start t0: UInt32,
        span: UInt32
    ) throws -> [Figure] {
        let note = output.note
        var rng = SystemRandomNumberGenerator()
        // As serve does in the background when it starts: each block's checksum is checked once, so the
        // timed pages do not pay for the first read of a block (a query would otherwise check it then).
        note("checking block checksums, as serve does at start…")
        try archive.checkBlocks()
        note("timing \(requests) requests, the baseline's first \(min(requests, baselineRequests))…")
        var firstPage: [Double] = []
        var cursorPage: [Double] = []
        var baseFirst: [Double] = []
        var baseCursor: [Double] = []
        let placeholders = (1...10).map { "?\($0 + 2)" }.joined(separator: ",")
        let bq = try base.prepare("SELECT id, data FROM envelopes WHERE id >= ?1 AND id <= ?2 AND topic IN (\(placeholders)) ORDER BY id LIMIT 1001")
        // The same questions to both, ours first and then the baseline's, so that neither runs right after the
        // other's (the baseline's pages are far slower and would leave the CPU caches cold for ours). The
        // baseline answers only the first `baselineRequests`, enough for its p99 within minutes, and our pages,
        // far cheaper, can be many, so that our p99s (and their ratio) do not hang on a few samples.
        let questions = (0..<requests).map { _ -> (from: UInt32, to: UInt32, topics: [Topic]) in
            let from = t0 + UInt32.random(in: 0...(span - 86_400), using: &rng)
            return (from, from + 86_400, Array(topicList.shuffled(using: &rng).prefix(10)))
        }
        for q in questions {
            let filter = EnvelopeFilter(from: q.from, to: q.to, topics: .list(q.topics))
            // As in serve, where each page is sent and released before the next request: the first page is
            // released before its cursor page is timed (kept alive, it left the cursor page's envelopes to other
            // heap blocks, and that alone made cursor pages measurably slower).
            var s = Date()
            let cursor = try archive.query(filter, limit: 1000).cursor
            firstPage.append(Date().timeIntervalSince(s) * 1000)
            if let c = cursor {
                s = Date()
                _ = try archive.query(filter, limit: 1000, after: c)
                cursorPage.append(Date().timeIntervalSince(s) * 1000)
            }
        }
        for q in questions.prefix(baselineRequests) {
            let (from, to, chosen) = (q.from, q.to, q.topics)
            // Baseline: same question in SQL, ascending like LevelDB; the cursor continues after the last id.
            func baseQuery(lower: [UInt8]) throws -> [UInt8]? {
                bq.reset()
                bq.bind(1, blob: lower)
                bq.bind(2, blob: EnvelopeKey.upperBound(sentTime: to).bytes)
                for (i, t) in chosen.enumerated() { bq.bind(Int32(i + 3), blob: t.bytes) }
                var last: [UInt8]?
                var n = 0
                var sink = 0
                while try bq.step() {
                    n += 1
                    if n > 1000 { break }
                    last = bq.blob(0)
                    sink &+= bq.blob(1).count
                }
                return n > 1000 ? last : nil
            }
            var s = Date()
            let c = try baseQuery(lower: EnvelopeKey.lowerBound(sentTime: from).bytes)
            baseFirst.append(Date().timeIntervalSince(s) * 1000)
            if let c {
                s = Date()
                _ = try baseQuery(lower: c + [0])
                baseCursor.append(Date().timeIntervalSince(s) * 1000)
            }
        }
        return [
            Figure(
                name: "request_first_page_p99",
                value: percentile(firstPage, 0.99),
                unit: "ms",
                baseline: percentile(baseFirst, 0.99),
                note: String(
                    format: "p50 %.2f ms (baseline %.2f ms); %d pages (baseline %d)",
                    percentile(firstPage, 0.5),
                    percentile(baseFirst, 0.5),
                    firstPage.count,
                    baseFirst.count
                )
            ),
            Figure(
                name: "request_cursor_page_p99",
                value: percentile(cursorPage, 0.99),
                unit: "ms",
                baseline: percentile(baseCursor, 0.99),
                note: String(
                    format: "p50 %.2f ms (baseline %.2f ms); %d pages (baseline %d); p99 %.2f× and p50 %.2f× the first page's",
                    percentile(cursorPage, 0.5),
                    percentile(baseCursor, 0.5),
                    cursorPage.count,
                    baseCursor.count,
                    percentile(cursorPage, 0.99) / percentile(firstPage, 0.99),
                    percentile(cursorPage, 0.5) / percentile(firstPage, 0.5)
                )
            ),
        ]

    }

    /// The peak resident memory of a child `whisper-archive import` of the same envelopes.
    private func importMemory(_ batches: [[Envelope]], input: String, archive: String) throws -> Figure {
        _ = FileManager.default.createFile(atPath: input, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        for b in batches { try h.write(contentsOf: Data(b.flatMap(\.rlp))) }
        try h.close()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        p.arguments = ["import", "--archive", archive, "--format", "rlp", input]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // VmHWM of the child after exec (getrusage would count the pages it shared with this process at fork).
        var peakKB = 0
        while p.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                peakKB = max(peakKB, kb)
            }
            usleep(50_000)
        }
        p.waitUntilExit()
        return Figure(
            name: "import_peak_rss",
            value: Double(peakKB) / 1024,
            unit: "MB",
            baseline: nil,
            note: "child import of \(count) envelopes, exit \(p.terminationStatus)"
        )
    }

    /// Waits (at most 60 s) until the kernel has written back the dirty page cache, where Linux says how much is
    /// left (`Dirty` and `Writeback` of /proc/meminfo), so that one timed phase does not pay for the last one's bytes.
    static func waitForWriteBack() {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return }
            var kB = 0
            for line in text.split(separator: "\n") where line.hasPrefix("Dirty:") || line.hasPrefix("Writeback:") {
                kB += Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
            if kB < 16 << 10 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The bytes this process has caused to be written to storage (`write_bytes` of /proc/self/io), where Linux says.
    static func bytesWrittenToStorage() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int64(line.dropFirst("write_bytes:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    func percentile(_ xs: [Double], _ p: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s[min(s.count - 1, Int(Double(s.count - 1) * p))]
    }

    func directorySize(_ path: String, only: String? = nil) -> Int64 {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let f = e.nextObject() as? String {
            if let only, !f.hasPrefix(only) { continue }
            if let a = try? FileManager.default.attributesOfItem(atPath: path + "/" + f), let s = a[.size] as? NSNumber { total += s.int64Value }
        }
        return total
    }
}

/// The engine `bench store` measures.
enum BenchEngine: String, ExpressibleByArgument {
    case archive
    case postgres
}
