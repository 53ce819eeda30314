import ArchiveStore
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Whisper

/// The PostgreSQL engine behind the store API: envelopes in status-go's `envelopes` table
/// (whisper-mailserver.md §6.2), which several `serve` processes can share.
///
/// - Appends go through one writer per process (``PostgresWriter``): the batches queued meanwhile become one
///   multi-row `INSERT … ON CONFLICT (id) DO NOTHING`, sorted by key so that two nodes inserting the same
///   envelopes never deadlock; a batch is acknowledged after its statement committed.
/// - Queries answer in ascending key order after a 36-byte cursor, exactly as the embedded archive does (not in
///   status-go's descending PostgreSQL order), so that a client pages the same way on either engine.
/// - Every database round trip is bounded by ``Configuration/timeout``: while the server is down, a request
///   fails with the database's words instead of hanging, and the pool reconnects with backoff.
public final class PostgresStore: EnvelopeStore {
    /// How to open the store.
    public struct Configuration: Sendable {
        /// Connections in the pool (the most statements at once).
        public var connections = 8
        /// The longest a statement, or the wait for a connection, may take.
        public var timeout: Duration = .seconds(10)
        /// Read only: the schema is checked, never created or extended, and the session refuses writes
        /// (`default_transaction_read_only`), so that a database read as an import source is left as it was.
        public var readOnly = false
        /// Where the engine logs.
        public var logger = Logger(label: "whisper-archive.postgres")

        /// The defaults.
        public init() {}
    }

    /// The database URL without its password.
    public let location: String
    let parts: PostgresLocation
    let configuration: Configuration
    let client: PostgresClient
    let runner: Task<Void, Never>
    let writer: PostgresWriter?
    let metrics = StoreMetrics()
    var logger: Logger { configuration.logger }

    private init(location: PostgresLocation, configuration: Configuration) {
        self.location = location.description
        self.parts = location
        self.configuration = configuration
        var c = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: location.clientTLS
        )
        c.options.maximumConnections = max(1, configuration.connections)
        c.options.connectTimeout = configuration.timeout
        if configuration.readOnly { c.options.additionalStartupParameters = [("default_transaction_read_only", "on")] }
        let client = PostgresClient(configuration: c, backgroundLogger: configuration.logger)
        self.client = client
        self.runner = Task { await client.run() }
        self.writer =
            configuration.readOnly
            ? nil : PostgresWriter(client: client, timeout: configuration.timeout, logger: configuration.logger, location: location.description)
    }

    /// status-go's migration 1557732988, statement for statement, creating `table` (for `bench store`'s baseline).
    public static func statusGoMigration(table: String = "envelopes") -> [String] {
        table == "envelopes" ? PostgresSchema.statusGoTables : PostgresSchema.statusGoTables(named: table)
    }

    /// Connects, then checks status-go's schema (creating it in an empty database, unless read only).
    ///
    /// - Throws: ``ArchiveError`` with code `.database` and one line naming the URL: unreachable, refused login,
    ///   or a database that does not hold status-go's schema.
    public static func open(_ location: PostgresLocation, configuration: Configuration = Configuration()) async throws(ArchiveError) -> PostgresStore
    {
        let store = PostgresStore(location: location, configuration: configuration)
        do {
            try await store.setUp()
        } catch {
            await store.close()
            throw error
        }
        return store
    }


    // MARK: the store API

    /// Queues a batch for the writer; see ``EnvelopeStore/enqueue(_:arrivals:)``. Arrival times are not kept:
    /// status-go's table has no column for them.
    public func enqueue(_ envelopes: [Envelope], arrivals: [UInt32]?) throws(ArchiveError) -> PendingAppend {
        guard let writer else { throw ArchiveError(.readOnly, "\(location) is open for reading only") }
        if let arrivals, arrivals.count != envelopes.count {
            throw ArchiveError(.invalidArgument, "arrivals must have one entry per envelope")
        }
        return writer.submit(envelopes)
    }

    /// One page in ascending key order; see ``EnvelopeStore/query(_:limit:after:each:)``.
    public func query(
        _ filter: EnvelopeFilter,
        limit: Int,
        after cursor: Cursor?,
        each body: (ArchivedEnvelope) -> Void
    ) async throws(ArchiveError) -> QueryPage {
        guard limit >= 1 else { throw ArchiveError(.invalidArgument, "the limit must be at least 1, got \(limit)") }
        guard filter.from <= filter.to else { return QueryPage(envelopes: [], cursor: nil) }
        let range = KeyRange(filter, after: cursor)
        let topics = try await selection(filter.topics)
        if range.isEmpty || topics.isNothing { return QueryPage(envelopes: [], cursor: nil) }
        // One more row than the page tells whether more remain, as the embedded archive's cursor does.
        let rows = try await fetch(PostgresQueries.page(range: range, topics: topics, limit: limit + 1), "reading a page")
        var delivered = 0
        var lastKey: EnvelopeKey?
        for (id, data) in rows {
            guard let stored = envelope(id: id, data: data) else { continue }
            if delivered == limit { return QueryPage(envelopes: [], cursor: lastKey?.cursor) }
            body(stored)
            delivered += 1
            lastKey = stored.key
        }
        return QueryPage(envelopes: [], cursor: nil)
    }

    /// Every matching envelope in key order (PostgreSQL has no storage order: `.storage` reads in key order too).
    @discardableResult
    public func scan(
        _ filter: EnvelopeFilter = .all,
        order: ScanOrder = .storage,
        _ body: (ArchivedEnvelope) throws -> Void
    ) async throws -> [DamagedBlock] {
        guard filter.from <= filter.to else { return [] }
        let topics = try await selection(filter.topics)
        if topics.isNothing { return [] }
        var range = KeyRange(filter, after: nil)
        // Pages of 10,000 keys: each statement is short, and a scan never holds one snapshot for hours.
        while !range.isEmpty {
            let rows = try await fetch(PostgresQueries.page(range: range, topics: topics, limit: 10_000), "reading envelopes")
            for (id, data) in rows {
                if let stored = envelope(id: id, data: data) { try body(stored) }
            }
            guard rows.count == 10_000, let last = rows.last else { break }
            range.lower = Array(last.0.readableBytesView)
        }
        return []
    }

    /// The envelopes stored, from the trigger-kept counter: 16 rows read, whatever the table's size.
    public func count() async throws(ArchiveError) -> Int {
        let n = try await bounded("counting envelopes") { () async throws -> Int in
            let rows = try await self.client.query(PostgresQueries.count, logger: self.logger)
            for try await n in rows.decode(Int64.self) { return Int(n) }
            return 0
        }
        // The gauges the embedded archive's writer keeps, refreshed with the count (which `serve` polls): the oldest
        // and newest sent time, from the first and last id, and the bytes of the table.
        try await bounded("reading the envelopes' span") { () async throws -> Void in
            let rows = try await self.client.query(PostgresQueries.span, logger: self.logger)
            for try await (first, last, bytes) in rows.decode((ByteBuffer?, ByteBuffer?, Int64).self) {
                func sent(_ b: ByteBuffer?) -> Int64 {
                    guard let b, let t = b.getInteger(at: b.readerIndex, endianness: .big, as: UInt32.self) else { return 0 }
                    return Int64(t)
                }
                self.metrics.oldestSent.record(sent(first))
                self.metrics.newestSent.record(sent(last))
                self.metrics.bytes.record(bytes)
            }
        }
        return n
    }

    /// Deletes what was sent before `cutoff` in batches of 10,000 keys, on one node at a time: the node that holds
    /// the retention advisory lock. Another node finds it taken and reports that it removed nothing.
    public func expire(sentBefore cutoff: UInt32) async throws(ArchiveError) -> RetentionReport {
        guard writer != nil else { throw ArchiveError(.readOnly, "\(location) is open for reading only") }
        let upper = ByteBuffer(bytes: EnvelopeKey.lowerBound(sentTime: cutoff).bytes)
        let (removed, ran) = try await bounded("applying retention", scale: 360) { () async throws -> (Int, Bool) in
            try await self.client.withConnection { connection in
                let lock = try await connection.query(PostgresQueries.tryLock(PostgresSchema.retentionLock), logger: self.logger)
                var locked = false
                for try await got in lock.decode(Bool.self) { locked = got }
                guard locked else { return (0, false) }
                var removed = 0
                do {
                    while true {
                        let rows = try await connection.query(PostgresQueries.deleteBatch(before: upper, batch: 10_000), logger: self.logger)
                        var n = 0
                        for try await deleted in rows.decode(Int64.self) { n = Int(deleted) }
                        removed += n
                        if n < 10_000 { break }
                    }
                } catch {
                    _ = try? await connection.query(PostgresQueries.unlock(PostgresSchema.retentionLock), logger: self.logger)
                    throw error
                }
                _ = try await connection.query(PostgresQueries.unlock(PostgresSchema.retentionLock), logger: self.logger)
                return (removed, true)
            }
        }
        let kept = try await count()
        return RetentionReport(
            removed: removed,
            kept: kept,
            detail: ran ? "(batches of 10000 keys)" : "(another node holds the retention lock)"
        )
    }

    /// Waits for the queued appends, then closes the pool's connections.
    public func close() async {
        await writer?.close()
        await shutDown()
    }

    private func shutDown() async {
        runner.cancel()
        await runner.value
    }

    // MARK: helpers

    /// The row as an envelope, or nil (with a warning) for a row whose key is not 40 bytes: status-go's schema
    /// does not enforce the length, and a query must not trap on someone else's row.
    func envelope(id: ByteBuffer, data: ByteBuffer) -> ArchivedEnvelope? {
        guard id.readableBytes == EnvelopeKey.length, let key = try? EnvelopeKey(bytes: id.readableBytesView) else {
            logger.warning("\(location): skipped a row whose id is \(id.readableBytes) bytes, not \(EnvelopeKey.length)")
            return nil
        }
        return ArchivedEnvelope(rlp: Array(data.readableBytesView), sentTime: key.sentTime, topic: key.topic, hash: key.hash)
    }

    /// The topics a selection stands for (a bloom is expanded to the stored topics it covers, as the embedded
    /// archive does).
    func selection(_ topics: EnvelopeFilter.Topics) async throws(ArchiveError) -> TopicSelection {
        switch topics {
        case .all:
            return .all
        case .list(let list):
            return .list(Array(Set(list)).sorted())
        case .bloom(let bloom):
            if bloom.isFull { return .all }
            return .list(try await storedTopics().filter { bloom.matches($0.bloom) })
        }
    }

    /// Every distinct topic stored, by a skip scan over the `(topic, id)` index: one probe per topic.
    func storedTopics() async throws(ArchiveError) -> [Topic] {
        try await bounded("listing topics") { () async throws -> [Topic] in
            let rows = try await self.client.query(PostgresQueries.distinctTopics, logger: self.logger)
            var out: [Topic] = []
            for try await t in rows.decode(ByteBuffer.self) where t.readableBytes == 4 {
                out.append(Topic(bytes: t.readableBytesView))
            }
            return out
        }
    }

    /// The `(id, data)` rows of a query, read within the timeout.
    func fetch(_ query: PostgresQuery, _ what: String) async throws(ArchiveError) -> [(ByteBuffer, ByteBuffer)] {
        try await bounded(what) { () async throws -> [(ByteBuffer, ByteBuffer)] in
            var out: [(ByteBuffer, ByteBuffer)] = []
            let rows = try await self.client.query(query, logger: self.logger)
            for try await row in rows.decode((ByteBuffer, ByteBuffer).self) { out.append(row) }
            return out
        }
    }

    /// Runs `body` within the configured timeout (times `scale`), turning any failure into a `.database` error.
    func bounded<T: Sendable>(
        _ what: String,
        scale: Int = 1,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws(ArchiveError) -> T {
        do {
            return try await Deadline.run(configuration.timeout * scale, body)
        } catch {
            throw PostgresErrorText.archiveError(error, while: what, location: location)
        }
    }

}
