import ArchiveStore
import Foundation

/// status-go's mailserver schema (whisper-mailserver.md §6.2) and what this engine adds to it.
///
/// The table and status-go's indexes are created exactly as status-go's migration 1557732988 creates them, and
/// the migration is recorded in golang-migrate's `schema_migrations` table, so that status-go itself runs on a
/// database this engine created. What this engine adds is compatible with status-go, which never reads it:
/// an index on `(topic, id)` for topic requests, and an envelope counter kept by statement triggers, so that the
/// archived-envelopes gauge reads 16 rows instead of counting the table.
enum PostgresSchema {
    /// status-go's migration version (the file name `1557732988_initialize_db.up.sql`).
    static let statusGoMigration: Int64 = 1_557_732_988

    /// Session-level advisory lock held while one node creates or upgrades the schema.
    static let setupLock: Int64 = 0x7768_6973_7065_7201
    /// Session-level advisory lock held by the one node that runs retention.
    static let retentionLock: Int64 = 0x7768_6973_7065_7202

    /// status-go's migration, statement for statement.
    static let statusGoTables = [
        "CREATE TABLE envelopes (id BYTEA NOT NULL UNIQUE, data BYTEA NOT NULL, topic BYTEA NOT NULL, bloom BIT(512) NOT NULL)",
        "CREATE INDEX id_bloom_idx ON envelopes (id DESC, bloom)",
        "CREATE INDEX id_topic_idx ON envelopes (id DESC, topic)",
        "CREATE INDEX topic_idx ON envelopes(topic)",
    ]

    /// status-go's migration for a table of another name (a schema-qualified copy, for a baseline beside ours).
    static func statusGoTables(named table: String) -> [String] {
        statusGoTables.map {
            $0.replacingOccurrences(of: "ON envelopes", with: "ON \(table)").replacingOccurrences(of: "TABLE envelopes", with: "TABLE \(table)")
        }
    }

    /// golang-migrate's bookkeeping, as its PostgreSQL driver creates it.
    static let migrationsTable = "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"

    /// The columns status-go's table has, with their types as `format_type` spells them.
    static let expectedColumns: [(name: String, type: String)] = [
        ("id", "bytea"), ("data", "bytea"), ("topic", "bytea"), ("bloom", "bit(512)"),
    ]

    /// Counter shards: concurrent writers update different rows (by backend process ID).
    static let counterShards = 16

    /// The index topic requests read: per topic, keys in order. Built concurrently, since status-go may be
    /// writing to the table meanwhile.
    static let topicIndex = "CREATE INDEX CONCURRENTLY IF NOT EXISTS whisper_archive_topic_id_idx ON envelopes (topic, id)"

    /// The counter's table and trigger functions, each safe to run again.
    static let counter = [
        "CREATE TABLE IF NOT EXISTS whisper_archive_counts (shard integer PRIMARY KEY, envelopes bigint NOT NULL)",
        """
        CREATE OR REPLACE FUNCTION whisper_archive_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE n bigint;
        BEGIN
          SELECT count(*) INTO n FROM inserted_rows;
          IF n > 0 THEN
            INSERT INTO whisper_archive_counts AS c (shard, envelopes) VALUES (pg_backend_pid() % \(counterShards), n)
              ON CONFLICT (shard) DO UPDATE SET envelopes = c.envelopes + excluded.envelopes;
          END IF;
          RETURN NULL;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION whisper_archive_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE n bigint;
        BEGIN
          SELECT count(*) INTO n FROM deleted_rows;
          IF n > 0 THEN
            INSERT INTO whisper_archive_counts AS c (shard, envelopes) VALUES (pg_backend_pid() % \(counterShards), -n)
              ON CONFLICT (shard) DO UPDATE SET envelopes = c.envelopes + excluded.envelopes;
          END IF;
          RETURN NULL;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION whisper_archive_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM whisper_archive_counts;
          RETURN NULL;
        END $$
        """,
    ]

    /// The triggers, created once with the counter's starting value (see ``PostgresStore``'s setup).
    static let triggers = [
        """
        CREATE TRIGGER whisper_archive_count_inserted AFTER INSERT ON envelopes
          REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION whisper_archive_count_inserted()
        """,
        """
        CREATE TRIGGER whisper_archive_count_deleted AFTER DELETE ON envelopes
          REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION whisper_archive_count_deleted()
        """,
        """
        CREATE TRIGGER whisper_archive_count_truncated AFTER TRUNCATE ON envelopes
          FOR EACH STATEMENT EXECUTE FUNCTION whisper_archive_count_truncated()
        """,
    ]
}
