import ArchiveStore
import Foundation
import Logging
import NIOCore
import PostgresArchive
import PostgresNIO
import Whisper

/// `bench store --engine postgres --postgres-url URL`: the PostgreSQL engine against status-go's own access
/// pattern on the same server in one run, with the embedded archive's figures from the same run beside them.
extension BenchStoreCommand {
    /// The schema status-go's baseline lives in, beside this engine's tables in the same database.
    static let baselineSchema = "whisper_archive_bench_statusgo"

    func runPostgres(url: String) async throws {
        let note = output.note
        let location: PostgresLocation
        do { location = try PostgresLocation(url: url) } catch { throw CLIError(error.description) }
        let work = try directoryOption.workDirectory(prefix: "wa-bench")
        defer { work.removeIfTemporary() }

        note("generating \(count) envelopes…")
        let topicList = BenchEnvelopes.topics(topics)
        let t0: UInt32 = 1_700_000_000
        let span: UInt32 = 7 * 86_400
        var data = BenchEnvelopes(count: count, topics: topicList, start: t0, span: UInt64(span))
        let envelopes = (0..<count).map { data.envelope($0) }
        let batches = stride(from: 0, to: count, by: batch).map { Array(envelopes[$0..<min(count, $0 + batch)]) }

        let raw = Self.benchClient(location)
        let runner = Task { await raw.run() }
        defer { runner.cancel() }
        let empty = try await Self.scalar(raw, "SELECT count(*)::bigint FROM pg_class WHERE relname = 'envelopes'")
        guard empty == 0 else {
            throw CLIError("\(location) already has an envelopes table: bench store needs an empty database")
        }

        // 1. Durable ingest: ours (grouped multi-row inserts), status-go's one INSERT per envelope.
        var c = PostgresStore.Configuration()
        c.connections = max(8, writers)
        c.logger = Logger(label: "whisper-archive.bench")
        c.logger.logLevel = .warning
        let store: PostgresStore
        do { store = try await PostgresStore.open(location, configuration: c) } catch { throw CLIError(error.description) }
        let writers = self.writers
        note("ingesting into PostgreSQL…")
        let ingestStart = ContinuousClock.now
        try await Self.append(batches, to: store, writers: writers)
        let oursRate = Double(count) / Self.seconds(ContinuousClock.now - ingestStart)
        note(String(format: "ours: %.0f envelopes/s", oursRate))

        let sample = Array(envelopes.prefix(baselineInserts))
        note("status-go's ingest: \(sample.count) single INSERTs by \(writers) connections…")
        try await Self.execute(raw, "CREATE SCHEMA \(Self.baselineSchema)")
        for statement in PostgresStore.statusGoMigration(table: "\(Self.baselineSchema).envelopes") {
            try await Self.execute(raw, statement)
        }
        let baseStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    var i = w
                    while i < sample.count {
                        try await raw.query(PostgresStatusGo.insert(sample[i], table: "\(Self.baselineSchema).envelopes"))
                        i += writers
                    }
                }
            }
            try await group.waitForAll()
        }
        let baseRate = Double(sample.count) / Self.seconds(ContinuousClock.now - baseStart)
        note(String(format: "status-go: %.0f envelopes/s", baseRate))
        // The rest of the baseline's rows, copied in bulk, so that its pages run over the same million rows.
        try await Self.execute(
            raw,
            """
            INSERT INTO \(Self.baselineSchema).envelopes SELECT id, data, topic, bloom FROM public.envelopes ON CONFLICT (id) DO NOTHING
            """
        )
        try await Self.execute(raw, "VACUUM ANALYZE \(Self.baselineSchema).envelopes")
        try await Self.execute(raw, "VACUUM ANALYZE public.envelopes")

        // 2. Request pages, the same questions to both.
        var rng = SystemRandomNumberGenerator()
        let questions = (0..<requests).map { _ -> (from: UInt32, to: UInt32, topics: [Topic]) in
            let from = t0 + UInt32.random(in: 0...(span - 86_400), using: &rng)
            return (from, from + 86_400, Array(topicList.shuffled(using: &rng).prefix(10)))
        }
        note("timing \(requests) requests, status-go's first \(min(requests, baselineRequests))…")
        var first: [Double] = []
        var cursor: [Double] = []
        for q in questions {
            let filter = EnvelopeFilter(from: q.from, to: q.to, topics: .list(q.topics))
            var n = 0
            var s = ContinuousClock.now
            let page = try await store.query(filter, limit: 1000, after: nil) { _ in n += 1 }
            first.append(Self.seconds(ContinuousClock.now - s) * 1000)
            if let next = page.cursor {
                s = ContinuousClock.now
                _ = try await store.query(filter, limit: 1000, after: next) { _ in n += 1 }
                cursor.append(Self.seconds(ContinuousClock.now - s) * 1000)
            }
        }
        var baseFirst: [Double] = []
        var baseCursor: [Double] = []
        for q in questions.prefix(baselineRequests) {
            let lower = EnvelopeKey.lowerBound(sentTime: q.from).bytes
            let upper = EnvelopeKey.upperBound(sentTime: q.to).bytes
            var s = ContinuousClock.now
            let last = try await Self.statusGoPage(raw, lower: lower, upper: upper, cursor: nil, topics: q.topics)
            baseFirst.append(Self.seconds(ContinuousClock.now - s) * 1000)
            if let last {
                s = ContinuousClock.now
                _ = try await Self.statusGoPage(raw, lower: lower, upper: upper, cursor: last, topics: q.topics)
                baseCursor.append(Self.seconds(ContinuousClock.now - s) * 1000)
            }
        }
        await store.close()

        // 3. The embedded archive, same envelopes, same questions.
        note("the embedded archive, same envelopes…")
        var config = ArchiveConfiguration()
        config.sync = sync
        let archiveIngest = try await ingestStore(batches, directory: work.file("archive"), configuration: config)
        let archive = try Archive(directory: work.file("archive"), configuration: config)
        try archive.checkBlocks()
        var archiveFirst: [Double] = []
        var archiveCursor: [Double] = []
        for q in questions {
            let filter = EnvelopeFilter(from: q.from, to: q.to, topics: .list(q.topics))
            var s = ContinuousClock.now
            let next = try archive.query(filter, limit: 1000).cursor
            archiveFirst.append(Self.seconds(ContinuousClock.now - s) * 1000)
            if let next {
                s = ContinuousClock.now
                _ = try archive.query(filter, limit: 1000, after: next)
                archiveCursor.append(Self.seconds(ContinuousClock.now - s) * 1000)
            }
        }
        archive.close()

        try await Self.execute(raw, "DROP SCHEMA \(Self.baselineSchema) CASCADE")

        let p = { (xs: [Double], q: Double) in percentile(xs, q) }
        let figures: [Figure] = [
            Figure(
                name: "pg_ingest_1KiB_committed",
                value: oursRate,
                unit: "envelopes/s",
                baseline: baseRate,
                note: String(
                    format: "%.1fx status-go's single INSERTs (%d of them, %d connections); embedded archive %.0f/s (sync %@)",
                    oursRate / baseRate,
                    sample.count,
                    writers,
                    archiveIngest.rate,
                    "\(sync)"
                )
            ),
            Figure(
                name: "pg_request_first_page_p99",
                value: p(first, 0.99),
                unit: "ms",
                baseline: p(baseFirst, 0.99),
                note: String(
                    format:
                        "p50 %.2f ms (status-go %.2f ms); %.1fx faster at p99; embedded archive p99 %.2f ms, p50 %.2f ms; %d pages (status-go %d)",
                    p(first, 0.5),
                    p(baseFirst, 0.5),
                    p(baseFirst, 0.99) / p(first, 0.99),
                    p(archiveFirst, 0.99),
                    p(archiveFirst, 0.5),
                    first.count,
                    baseFirst.count
                )
            ),
            Figure(
                name: "pg_request_cursor_page_p99",
                value: p(cursor, 0.99),
                unit: "ms",
                baseline: p(baseCursor, 0.99),
                note: String(
                    format: "p50 %.2f ms (status-go %.2f ms); %.2fx the first page's p99; embedded archive p99 %.2f ms; %d pages (status-go %d)",
                    p(cursor, 0.5),
                    p(baseCursor, 0.5),
                    p(cursor, 0.99) / p(first, 0.99),
                    p(archiveCursor, 0.99),
                    cursor.count,
                    baseCursor.count
                )
            ),
        ]
        print(figures: figures)
    }

    /// status-go's topic query (whisper-mailserver.md §5.5): descending, `id < cursor` on a cursor page; the
    /// last id's first 36 bytes when the page is full.
    static func statusGoPage(_ client: PostgresClient, lower: [UInt8], upper: [UInt8], cursor: [UInt8]?, topics: [Topic]) async throws -> [UInt8]? {
        var binds = PostgresBindings()
        binds.append(ByteBuffer(bytes: lower))
        binds.append(ByteBuffer(bytes: cursor ?? upper))
        binds.append(topics.map { ByteBuffer(bytes: $0.bytes) })
        binds.append(1000)
        let upperTest = cursor == nil ? "id <= $2" : "id < $2"
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL:
                    "SELECT id, data FROM \(baselineSchema).envelopes WHERE id >= $1 AND \(upperTest) AND topic = any($3) ORDER BY id DESC LIMIT $4",
                binds: binds
            )
        )
        var n = 0
        var last: ByteBuffer?
        for try await (id, _) in rows.decode((ByteBuffer, ByteBuffer).self) {
            n += 1
            last = id
        }
        guard n == 1000, let last else { return nil }
        return Array(last.readableBytesView.prefix(36))
    }

    static func benchClient(_ location: PostgresLocation) -> PostgresClient {
        var c = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: location.clientTLS
        )
        c.options.maximumConnections = 16
        var logger = Logger(label: "whisper-archive.bench")
        logger.logLevel = .warning
        return PostgresClient(configuration: c, backgroundLogger: logger)
    }

    static func execute(_ client: PostgresClient, _ sql: String) async throws {
        do { try await client.query(PostgresQuery(unsafeSQL: sql)) } catch {
            throw CLIError("bench: \(String(reflecting: error).prefix(300))")
        }
    }

    static func scalar(_ client: PostgresClient, _ sql: String) async throws -> Int64 {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql))
        for try await n in rows.decode(Int64.self) { return n }
        return 0
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// status-go's side of the PostgreSQL bench: its insert, as whisper-mailserver.md §6.2 gives it.
enum PostgresStatusGo {
    /// One envelope as status-go inserts it: id, data and topic bound, the bloom inlined as a bit literal.
    static func insert(_ e: Envelope, table: String) -> PostgresQuery {
        let bits = e.bloom.bytes.map { b -> String in
            let s = String(b, radix: 2)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
        var binds = PostgresBindings()
        binds.append(ByteBuffer(bytes: e.key.bytes))
        binds.append(ByteBuffer(bytes: e.rlp))
        binds.append(ByteBuffer(bytes: e.topic.bytes))
        return PostgresQuery(
            unsafeSQL: "INSERT INTO \(table) (id, data, topic, bloom) VALUES ($1, $2, $3, B'\(bits)'::bit(512)) ON CONFLICT (id) DO NOTHING",
            binds: binds
        )
    }
}
