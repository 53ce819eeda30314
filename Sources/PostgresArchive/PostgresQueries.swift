import ArchiveStore
import NIOCore
import PostgresNIO
import Whisper

/// A key range: strictly above `lower`, up to and including `upper` (40-byte keys compare bytewise, as `bytea`).
struct KeyRange: Sendable {
    var lower: [UInt8]
    var upper: [UInt8]

    /// The keys of `filter`'s sent-time range strictly after `cursor`: a cursor excludes every key that starts
    /// with it (sent time and hash; the topic is not part of a cursor).
    init(_ filter: EnvelopeFilter, after cursor: Cursor?) {
        let fromBound = filter.from == 0 ? [] : Self.last(of: filter.from - 1)
        if let cursor {
            let cursorBound = cursor.bytes + [0xFF, 0xFF, 0xFF, 0xFF]
            lower = cursorBound.lexicographicallyPrecedes(fromBound) ? fromBound : cursorBound
        } else {
            lower = fromBound
        }
        upper = Self.last(of: filter.to)
    }

    /// The largest 40-byte key of a second.
    static func last(of second: UInt32) -> [UInt8] { EnvelopeKey.upperBound(sentTime: second).bytes }

    /// True when no key lies in the range.
    var isEmpty: Bool { !lower.lexicographicallyPrecedes(upper) }
}

/// The topics a query reads.
enum TopicSelection: Sendable {
    /// Every topic.
    case all
    /// These topics (none: nothing matches).
    case list([Topic])

    /// True when nothing can match.
    var isNothing: Bool {
        if case .list(let l) = self { return l.isEmpty }
        return false
    }
}

/// status-go's `bloom BIT(512)`: the 64 bloom bytes, first byte first, most significant bit first (§6.2), in
/// PostgreSQL's binary form (the bit count, then the bytes).
struct BloomBits: PostgresArrayEncodable, PostgresNonThrowingEncodable {
    static var psqlType: PostgresDataType { .bit }
    static var psqlArrayType: PostgresDataType { .bitArray }
    static var psqlFormat: PostgresFormat { .binary }

    let bytes: [UInt8]

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(Int32(bytes.count * 8))
        buffer.writeBytes(bytes)
    }
}

/// Every statement the engine runs on the envelopes table.
enum PostgresQueries {
    /// Up to `limit` rows `(id, data)` of the range and topics, in ascending key order.
    ///
    /// For a topic list, each topic's keys come from the `(topic, id)` index (at most `limit` each), the first
    /// `limit` of them overall are kept, and only then are their envelopes read.
    static func page(range: KeyRange, topics: TopicSelection, limit: Int) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(ByteBuffer(bytes: range.lower))
        binds.append(ByteBuffer(bytes: range.upper))
        binds.append(limit)
        switch topics {
        case .all:
            return PostgresQuery(
                unsafeSQL: "SELECT id, data FROM envelopes WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
                binds: binds
            )
        case .list(let list):
            binds.append(list.map { ByteBuffer(bytes: $0.bytes) })
            return PostgresQuery(
                unsafeSQL: """
                    SELECT e.id, e.data FROM (
                      SELECT k.id FROM unnest($4::bytea[]) AS t(topic)
                      CROSS JOIN LATERAL (
                        SELECT id FROM envelopes WHERE topic = t.topic AND id > $1 AND id <= $2 ORDER BY id LIMIT $3
                      ) AS k
                      ORDER BY k.id LIMIT $3
                    ) AS page JOIN envelopes AS e ON e.id = page.id
                    ORDER BY e.id
                    """,
                binds: binds
            )
        }
    }

    /// Every distinct stored topic: a recursive skip scan, one index probe per topic instead of a table scan.
    static let distinctTopics: PostgresQuery = """
        WITH RECURSIVE t(topic) AS (
          (SELECT topic FROM envelopes ORDER BY topic LIMIT 1)
          UNION ALL
          SELECT (SELECT e.topic FROM envelopes AS e WHERE e.topic > t.topic ORDER BY e.topic LIMIT 1)
          FROM t WHERE t.topic IS NOT NULL
        )
        SELECT topic FROM t WHERE topic IS NOT NULL
        """

    /// The trigger-kept envelope count.
    static let count: PostgresQuery = "SELECT coalesce(sum(envelopes), 0)::bigint FROM whisper_archive_counts"

    /// The smallest and largest ids (two index reads) and the table's size with its indexes, for the gauges.
    static let span: PostgresQuery = """
        SELECT (SELECT id FROM envelopes ORDER BY id ASC LIMIT 1), (SELECT id FROM envelopes ORDER BY id DESC LIMIT 1),
               pg_total_relation_size('envelopes')::bigint
        """

    /// Inserts rows (sorted by id, each id once), skipping ids already stored; returns the ids inserted.
    static func insert(ids: [ByteBuffer], data: [ByteBuffer], topics: [ByteBuffer], blooms: [BloomBits]) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(ids)
        binds.append(data)
        binds.append(topics)
        binds.append(blooms)
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO envelopes (id, data, topic, bloom)
                SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bit(512)[])
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """,
            binds: binds
        )
    }

    /// Deletes up to `batch` of the oldest keys below `before`; returns how many.
    static func deleteBatch(before: ByteBuffer, batch: Int) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(before)
        binds.append(batch)
        return PostgresQuery(
            unsafeSQL: """
                WITH doomed AS (SELECT id FROM envelopes WHERE id < $1 ORDER BY id LIMIT $2),
                     gone AS (DELETE FROM envelopes AS e USING doomed WHERE e.id = doomed.id RETURNING 1)
                SELECT count(*)::bigint FROM gone
                """,
            binds: binds
        )
    }

    /// Takes a session-level advisory lock if it is free; returns whether it did.
    static func tryLock(_ key: Int64) -> PostgresQuery { "SELECT pg_try_advisory_lock(\(key))" }

    /// Waits for a session-level advisory lock.
    static func lock(_ key: Int64) -> PostgresQuery { "SELECT pg_advisory_lock(\(key))::text" }

    /// Releases a session-level advisory lock.
    static func unlock(_ key: Int64) -> PostgresQuery { "SELECT pg_advisory_unlock(\(key))" }
}
