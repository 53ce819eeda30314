import ArchiveStore
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

extension PostgresStore {
    /// Checks the schema on a connection of its own (so that a refused login or a missing database is reported
    /// at once with the server's words, not after the pool's retries), creating it in an empty database and adding
    /// this engine's index and counter, unless the store is read only.
    ///
    /// Nodes starting at once take turns through an advisory lock.
    func setUp() async throws(ArchiveError) {
        let readOnly = configuration.readOnly
        let logger = self.logger
        let location = self.location
        let connectionConfiguration = try connectionConfiguration()
        try await bounded("opening the database", scale: 360) { () async throws -> Void in
            let connection = try await Deadline.run(self.configuration.timeout) {
                try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
            }
            do {
                if !readOnly { try await connection.query(PostgresQueries.lock(PostgresSchema.setupLock), logger: logger) }
                try await Self.prepareSchema(on: connection, readOnly: readOnly, location: location, logger: logger)
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    /// The pool's settings, for the one connection the setup makes.
    private func connectionConfiguration() throws(ArchiveError) -> PostgresConnection.Configuration {
        let l = parts
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch l.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw ArchiveError(.database, "\(location): cannot set up TLS: \(error)")
        }
        var c = PostgresConnection.Configuration(
            host: l.host,
            port: l.port,
            username: l.user,
            password: l.password,
            database: l.database,
            tls: tls
        )
        c.options.connectTimeout = TimeAmount.nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000)
        if configuration.readOnly { c.options.additionalStartupParameters = [("default_transaction_read_only", "on")] }
        return c
    }

    private static func prepareSchema(on connection: PostgresConnection, readOnly: Bool, location: String, logger: Logger) async throws {
        var columns = try await envelopeColumns(connection, logger: logger)
        if columns.isEmpty {
            let tables = try await scalar(
                connection,
                """
                SELECT count(*)::bigint FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                """,
                logger: logger
            )
            guard tables == 0 else {
                throw ArchiveError(.database, "\(location) is not a status-go mailserver database: it has \(tables) table(s) but no envelopes table")
            }
            guard !readOnly else { throw ArchiveError(.database, "\(location) is empty: no envelopes table to read") }
            try await connection.query("BEGIN", logger: logger)
            for statement in PostgresSchema.statusGoTables { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.migrationsTable), logger: logger)
            try await connection.query(
                "INSERT INTO schema_migrations (version, dirty) VALUES (\(PostgresSchema.statusGoMigration), false)",
                logger: logger
            )
            try await connection.query("COMMIT", logger: logger)
            logger.info("\(location): created status-go's mailserver schema")
            columns = try await envelopeColumns(connection, logger: logger)
        }
        let found = columns.map { "\($0.name) \($0.type)" }
        let expected = PostgresSchema.expectedColumns.map { "\($0.name) \($0.type)" }
        guard found == expected else {
            throw ArchiveError(
                .database,
                "\(location) is not a status-go mailserver database: table envelopes has columns (\(found.joined(separator: ", "))), expected (\(expected.joined(separator: ", ")))"
            )
        }
        guard !readOnly else { return }

        try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.topicIndex), logger: logger)
        let triggers = try await scalar(
            connection,
            """
            SELECT count(*)::bigint FROM pg_trigger WHERE tgrelid = 'envelopes'::regclass AND tgname LIKE 'whisper_archive_count_%'
            """,
            logger: logger
        )
        guard triggers < Int64(PostgresSchema.triggers.count) else { return }
        // The counter starts from one count of the table, taken while writers wait, and the triggers keep it.
        try await connection.query("BEGIN", logger: logger)
        try await connection.query("LOCK TABLE envelopes IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        for statement in PostgresSchema.counter { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
        for name in ["inserted", "deleted", "truncated"] {
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TRIGGER IF EXISTS whisper_archive_count_\(name) ON envelopes"), logger: logger)
        }
        try await connection.query("DELETE FROM whisper_archive_counts", logger: logger)
        try await connection.query("INSERT INTO whisper_archive_counts (shard, envelopes) SELECT 0, count(*) FROM envelopes", logger: logger)
        for statement in PostgresSchema.triggers { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
        try await connection.query("COMMIT", logger: logger)
        logger.info("\(location): added the envelope counter")
    }

    /// The columns of `envelopes` in the current schema, with their types; empty when there is no such table.
    private static func envelopeColumns(_ connection: PostgresConnection, logger: Logger) async throws -> [(name: String, type: String)] {
        let rows = try await connection.query(
            """
            SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a
            WHERE a.attrelid = to_regclass('envelopes') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """,
            logger: logger
        )
        var out: [(name: String, type: String)] = []
        for try await (name, type) in rows.decode((String, String).self) { out.append((name, type)) }
        return out
    }

    private static func scalar(_ connection: PostgresConnection, _ sql: String, logger: Logger) async throws -> Int64 {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await n in rows.decode(Int64.self) { return n }
        return 0
    }
}
