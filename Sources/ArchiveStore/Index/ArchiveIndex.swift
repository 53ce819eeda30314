import Foundation
internal import SQLite
import Whisper

/// The SQLite index of an archive (derived data): one row per stored envelope, keyed by (topic, sent time ‖ hash).
///
/// Schema (see docs/FORMAT.md):
/// `entries(topic BLOB(4), key BLOB(36), seg, blk, pos, len)` WITHOUT ROWID, primary key (topic, key);
/// `topics(topic, count, min_sent, max_sent)`; `meta(name, value)` with the high-water mark.
final class ArchiveIndex: @unchecked Sendable {
    static let fileName = "index.sqlite"
    static let schemaVersion: Int64 = 1

    let db: SQLiteDatabase
    let readOnly: Bool
    /// The schema of the index a writer found and dropped because it was not ``schemaVersion``; its rows are
    /// rebuilt from the segments by recovery.
    private(set) var droppedSchema: Int64?
    private var insertStatement: SQLiteStatement?
    private var chunkInsertStatement: SQLiteStatement?
    private var locationStatement: SQLiteStatement?
    private var setLocationStatement: SQLiteStatement?
    private var markCompressedStatement: SQLiteStatement?
    private var upsertTopicStatement: SQLiteStatement?
    private var rangeStatements: [SQLiteStatement] = []
    /// One `sent time ‖ hash ‖ topic` slot per row of a statement, bound without copying by the writing statements
    /// (SQLite reads them during the step).
    private let keyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 40 * ArchiveIndex.insertChunk, alignment: 8)
    private var rangeStatementsInclusive: [SQLiteStatement] = []

    deinit { keyBuffer.deallocate() }

    /// Releases the prepared statements and closes the connection, so that the database is at rest (in WAL
    /// mode: no `-wal` or `-shm` left) when this returns, not when the last reference goes.
    func close() {
        insertStatement = nil
        chunkInsertStatement = nil
        locationStatement = nil
        setLocationStatement = nil
        markCompressedStatement = nil
        upsertTopicStatement = nil
        rangeStatements = []
        rangeStatementsInclusive = []
        db.close()
    }

    /// Opens an index: a writer's (created when missing; an index of another schema is dropped), or a read-only
    /// connection that writes nothing (`immutable`: to a file no writer changes meanwhile; see ``IndexAccess``).
    init(path: String, readOnly: Bool, immutable: Bool = false) throws(ArchiveError) {
        do throws(SQLiteError) {
            db = try SQLiteDatabase(path: path, readOnly: readOnly, create: !readOnly, immutable: immutable)
        } catch {
            throw Self.explain(ArchiveError(error), path: path)
        }
        self.readOnly = readOnly
        do throws(ArchiveError) { try setUp(path: path) } catch { throw Self.explain(error, path: path) }
    }

    /// An index that SQLite finds not to be a database, or damaged, is named with what to run.
    private static func explain(_ error: ArchiveError, path: String) -> ArchiveError {
        let damaged = ["SQLite code 26)", "SQLite code 11)", "file is not a database", "malformed"].contains { error.message.contains($0) }
        guard damaged else { return error }
        let dir = (path as NSString).deletingLastPathComponent
        return ArchiveError(
            .index,
            "the index is damaged (\(error.message.contains("not a database") || error.message.contains("code 26") ? "not a SQLite database" : "malformed")); "
                + "run `whisper-archive reindex --archive \(dir)` to rebuild it from the segments",
            path: path
        )
    }

    private func setUp(path: String) throws(ArchiveError) {
        if readOnly {
            try sqlite(db.execute("PRAGMA query_only = 1"))
            guard try sqlite(db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'entries'")) == 1 else {
                throw ArchiveError(.index, "the index has no entries table; open the archive once as a writer or run reindex", path: path)
            }
            if let found = try Self.schema(of: db), found != Self.schemaVersion {
                throw ArchiveError(
                    .unsupportedVersion,
                    "the index has schema \(found) and this build reads schema \(Self.schemaVersion); "
                        + "open the archive once as a writer (or run reindex) to rebuild it from the segments",
                    path: path
                )
            }
        } else {
            // The index is derived data: one of another schema (an older or newer build's) is dropped and rebuilt.
            if let found = try Self.schema(of: db), found != Self.schemaVersion {
                try sqlite(db.execute("DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS topics; DROP TABLE meta;"))
                droppedSchema = found
            }
            try sqlite(
                db.execute(
                    """
                    PRAGMA journal_mode = WAL;
                    PRAGMA synchronous = NORMAL;
                    CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS entries(
                        topic BLOB NOT NULL, key BLOB NOT NULL,
                        seg INTEGER NOT NULL, blk INTEGER NOT NULL, pos INTEGER NOT NULL, len INTEGER NOT NULL,
                        PRIMARY KEY (topic, key)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS topics(
                        topic BLOB PRIMARY KEY, count INTEGER NOT NULL,
                        min_sent INTEGER NOT NULL, max_sent INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT OR IGNORE INTO meta VALUES ('schema', \(ArchiveIndex.schemaVersion));
                    """
                )
            )
        }
        // Reads go through a shared mapping of the index file instead of one pread per page.
        try sqlite(db.execute("PRAGMA cache_size = -16384; PRAGMA mmap_size = 4294967296"))
    }

    /// The schema version recorded in an index's meta table, or nil for an index without one (a new file).
    private static func schema(of db: SQLiteDatabase) throws(ArchiveError) -> Int64? {
        do throws(SQLiteError) {
            guard try db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'meta'") == 1 else { return nil }
            let s = try db.prepare("SELECT value FROM meta WHERE name = 'schema'")
            return try s.step() ? s.int64(0) : nil
        } catch { throw ArchiveError(error) }
    }

    // MARK: meta

    func meta(_ name: String) throws(ArchiveError) -> Int64? {
        do throws(SQLiteError) {
            let s = try db.prepare("SELECT value FROM meta WHERE name = ?1")
            s.bind(1, text: name)
            return try s.step() ? s.int64(0) : nil
        } catch { throw ArchiveError(error) }
    }

    func setMeta(_ name: String, _ value: Int64) throws(ArchiveError) {
        do throws(SQLiteError) {
            let s = try db.prepare("INSERT OR REPLACE INTO meta VALUES (?1, ?2)")
            s.bind(1, text: name)
            s.bind(2, value)
            try s.run()
        } catch { throw ArchiveError(error) }
    }

    /// The high-water mark: the first byte after the last indexed block.
    ///
    /// - Throws: `.index` when a stored value is out of range (the index is damaged; reindex rebuilds it).
    func highWaterMark() throws(ArchiveError) -> (segment: UInt64, offset: Int64)? {
        guard let s = try meta("hwm_segment"), let o = try meta("hwm_offset") else { return nil }
        guard s >= 0, o >= Int64(SegmentHeader.length), o < RecordLocation.maxBlockOffset else {
            throw ArchiveError(
                .index,
                "the index's high-water mark (segment \(s), offset \(o)) is out of range; run reindex",
                path: db.path
            )
        }
        return (UInt64(s), o)
    }

    /// The location in columns `first ..< first + 4` (`seg, blk, pos, len`) of the current row.
    ///
    /// - Throws: `.index`, naming the index file, when a value is out of range.
    static func location(_ s: SQLiteStatement, from first: Int32) throws(ArchiveError) -> RecordLocation {
        let seg = s.int64(first)
        let blk = s.int64(first + 1)
        let pos = s.int64(first + 2)
        let len = s.int64(first + 3)
        guard let loc = RecordLocation(indexColumns: seg, storedBlock: blk, position: pos, length: len) else {
            throw ArchiveError(
                .index,
                "an index row points at no possible record (seg \(seg), blk \(blk), pos \(pos), len \(len)); "
                    + "run reindex",
                path: s.database.path
            )
        }
        return loc
    }

    /// Binds a row's `topic, key, seg, blk, pos, len` to parameters 1 to 6: the topic and the row key (the first 36
    /// bytes) of `key`, then `location`.
    static func bindRow(_ s: SQLiteStatement, key: EnvelopeKey, location: RecordLocation) {
        s.bind(1, blob: key.bytes[36..<40])
        s.bind(2, blob: key.bytes[0..<36])
        s.bind(3, Int64(location.segment))
        s.bind(4, location.storedBlock)
        s.bind(5, Int64(location.position))
        s.bind(6, Int64(location.length))
    }

    func setHighWaterMark(segment: UInt64, offset: Int64) throws(ArchiveError) {
        try setMeta("hwm_segment", Int64(segment))
        try setMeta("hwm_offset", offset)
    }

    // MARK: writing

    /// Rows per multi-row `INSERT`: one statement for a chunk costs SQLite and the bindings less than one per row.
    static let insertChunk = 32

    /// Inserts a row unless the key exists; true when the row is new.
    func insert(topic: UInt32, sentTime: UInt32, hash: [UInt8], location: RecordLocation) throws(ArchiveError) -> Bool {
        try insert([PlannedRow(topic: topic, sentTime: sentTime, hash: hash, location: location)], order: [0]) == 1
    }

    /// Inserts `rows` in the given order (indices into `rows`), skipping keys that exist; returns how many were new.
    ///
    /// Chunks of ``insertChunk`` rows go through one statement each, the rest one by one. Which rows were new
    /// is not reported: a caller that gets fewer than it passed asks ``storedLocation(of:)``.
    func insert(_ rows: [PlannedRow], order: [Int]) throws(ArchiveError) -> Int {
        precondition(order.count == rows.count)
        var added = 0
        var i = 0
        while i < order.count {
            let n = order.count - i >= Self.insertChunk ? Self.insertChunk : 1
            let s = try insertStatement(rows: n)
            for r in 0..<n { bind(s, rows[order[i + r]], slot: r) }
            added += try sqlite(s.run())
            i += n
        }
        return added
    }

    /// The statement inserting `rows` rows (1 or ``insertChunk``), prepared once.
    private func insertStatement(rows: Int) throws(ArchiveError) -> SQLiteStatement {
        if rows == 1, let s = insertStatement { return s }
        if rows != 1, let s = chunkInsertStatement { return s }
        let values = (0..<rows).map { r in "(" + (1...6).map { "?\(r * 6 + $0)" }.joined(separator: ", ") + ")" }
        let s = try sqlite(db.prepare("INSERT OR IGNORE INTO entries(topic, key, seg, blk, pos, len) VALUES " + values.joined(separator: ", ")))
        if rows == 1 { insertStatement = s } else { chunkInsertStatement = s }
        return s
    }

    /// Where the row of `row`'s key points, if the key is indexed.
    func storedLocation(of row: PlannedRow) throws(ArchiveError) -> RecordLocation? {
        if locationStatement == nil {
            locationStatement = try sqlite(db.prepare("SELECT seg, blk, pos, len FROM entries WHERE topic = ?1 AND key = ?2"))
        }
        let s = locationStatement!
        defer { s.reset() }
        bindKey(s, topic: row.topic, sentTime: row.sentTime, hash: row.hash)
        guard try sqlite(s.step()) else { return nil }
        return try Self.location(s, from: 0)
    }

    /// Points the row of `row`'s key at `row.location`.
    func setLocation(of row: PlannedRow) throws(ArchiveError) {
        if setLocationStatement == nil {
            setLocationStatement = try sqlite(db.prepare("UPDATE entries SET seg = ?3, blk = ?4, pos = ?5, len = ?6 WHERE topic = ?1 AND key = ?2"))
        }
        let s = setLocationStatement!
        bind(s, row, slot: 0)
        try sqlite(s.run())
    }

    /// Marks a row's block as LZ4-compressed.
    func markCompressed(topic: UInt32, sentTime: UInt32, hash: [UInt8], blockOffset: Int64) throws(ArchiveError) {
        if markCompressedStatement == nil {
            markCompressedStatement = try sqlite(db.prepare("UPDATE entries SET blk = ?3 WHERE topic = ?1 AND key = ?2"))
        }
        let s = markCompressedStatement!
        bindKey(s, topic: topic, sentTime: sentTime, hash: hash)
        s.bind(3, -(blockOffset + 1))
        try sqlite(s.run())
    }

    /// Binds a row's six values, `(topic, key, seg, blk, pos, len)`, to the statement's parameters for row `slot`
    /// (`6 × slot + 1` to `6 × slot + 6`); the key goes through slot `slot` of `keyBuffer`.
    private func bind(_ s: SQLiteStatement, _ row: PlannedRow, slot: Int) {
        bindKey(s, topic: row.topic, sentTime: row.sentTime, hash: row.hash, slot: slot)
        let p = Int32(slot * 6)
        s.bind(p + 3, Int64(row.location.segment))
        s.bind(p + 4, row.location.storedBlock)
        s.bind(p + 5, Int64(row.location.position))
        s.bind(p + 6, Int64(row.location.length))
    }

    /// Fills slot `slot` of `keyBuffer` with `sent time ‖ hash ‖ topic` (the 40-byte status-go key; the row key is
    /// its first 36 bytes) and binds the topic and the row key to parameters `6 × slot + 1` and `6 × slot + 2`.
    private func bindKey(_ s: SQLiteStatement, topic: UInt32, sentTime: UInt32, hash: [UInt8], slot: Int = 0) {
        precondition(hash.count == 32, "an envelope hash has 32 bytes")
        let key = UnsafeMutableRawBufferPointer(rebasing: keyBuffer[(slot * 40)..<(slot * 40 + 40)])
        key.storeBytes(of: sentTime.bigEndian, toByteOffset: 0, as: UInt32.self)
        hash.withUnsafeBytes { key.baseAddress!.advanced(by: 4).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        key.storeBytes(of: topic.bigEndian, toByteOffset: 36, as: UInt32.self)
        let p = Int32(slot * 6)
        s.bindStatic(p + 1, UnsafeRawBufferPointer(rebasing: key[36..<40]))
        s.bindStatic(p + 2, UnsafeRawBufferPointer(rebasing: key[0..<36]))
    }

    func addTopicStats(_ stats: [UInt32: TopicStats]) throws(ArchiveError) {
        if upsertTopicStatement == nil {
            upsertTopicStatement = try sqlite(
                db.prepare(
                    """
                    INSERT INTO topics(topic, count, min_sent, max_sent) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count,
                        min_sent = min(min_sent, excluded.min_sent), max_sent = max(max_sent, excluded.max_sent)
                    """
                )
            )
        }
        let s = upsertTopicStatement!
        for (topic, st) in stats {
            s.bind(1, blob: topicBytes(topic))
            s.bind(2, Int64(st.count))
            s.bind(3, Int64(st.minSent))
            s.bind(4, Int64(st.maxSent))
            try sqlite(s.run())
        }
    }

    /// Recomputes the `topics` table from `entries`.
    func rebuildTopics() throws(ArchiveError) {
        var stats: [UInt32: TopicStats] = [:]
        do throws(SQLiteError) {
            try db.execute("DELETE FROM topics")
            let s = try db.prepare("SELECT topic, key FROM entries ORDER BY topic")
            while try s.step() {
                let t = s.withBlob(0) { $0.count == 4 ? $0.loadUnaligned(as: UInt32.self).bigEndian : 0 }
                let sent = s.withBlob(1) { $0.count >= 4 ? $0.loadUnaligned(as: UInt32.self).bigEndian : 0 }
                stats[t, default: TopicStats()].add(sent)
            }
        } catch { throw ArchiveError(error) }
        try addTopicStats(stats)
    }

    // MARK: reading

    /// Distinct topics with rows whose sent time may fall in `from...to`.
    func topics(overlapping from: UInt32, _ to: UInt32) throws(ArchiveError) -> [UInt32] {
        do throws(SQLiteError) {
            let s = try db.prepare("SELECT topic FROM topics WHERE max_sent >= ?1 AND min_sent <= ?2 AND count > 0")
            s.bind(1, Int64(from))
            s.bind(2, Int64(to))
            var out: [UInt32] = []
            while try s.step() {
                out.append(s.withBlob(0) { $0.count == 4 ? $0.loadUnaligned(as: UInt32.self).bigEndian : 0 })
            }
            return out
        } catch { throw ArchiveError(error) }
    }

    /// All topics with their stats.
    func allTopics() throws(ArchiveError) -> [(topic: UInt32, stats: TopicStats)] {
        do throws(SQLiteError) {
            let s = try db.prepare("SELECT topic, count, min_sent, max_sent FROM topics ORDER BY topic")
            var out: [(UInt32, TopicStats)] = []
            while try s.step() {
                let t = s.withBlob(0) { $0.count == 4 ? $0.loadUnaligned(as: UInt32.self).bigEndian : 0 }
                out.append((t, TopicStats(count: Int(s.int64(1)), minSent: UInt32(clamping: s.int64(2)), maxSent: UInt32(clamping: s.int64(3)))))
            }
            return out
        } catch { throw ArchiveError(error) }
    }

    func count() throws(ArchiveError) -> Int { Int(try sqlite(db.scalar("SELECT count(*) FROM entries"))) }

    /// Where the envelope of `key` is stored, if it is indexed.
    func location(of key: EnvelopeKey) throws(ArchiveError) -> RecordLocation? {
        let s = try sqlite(db.prepare("SELECT seg, blk, pos, len FROM entries WHERE topic = ?1 AND key = ?2"))
        s.bind(1, blob: key.topic.bytes)
        s.bind(2, blob: key.bytes[0..<36])
        guard try sqlite(s.step()) else { return nil }
        return try Self.location(s, from: 0)
    }

    /// One page of rows in ascending key order, sent from `from` to `to` (inclusive) and after `cursor`: a k-way
    /// merge of per-topic ordered ranges.
    ///
    /// - Returns: at most `limit` rows, and whether at least one more row matches.
    func page(
        topics: [UInt32],
        sentFrom from: UInt32,
        to: UInt32,
        after cursor: Cursor?,
        limit: Int
    )
        throws(ArchiveError) -> (rows: [IndexRow], more: Bool)
    {
        try sqlite(db.execute("BEGIN"))
        defer { try? db.execute("COMMIT") }
        let lower = EnvelopeKey.lowerBound(sentTime: from).cursor.bytes
        let upper = EnvelopeKey.upperBound(sentTime: to).cursor.bytes
        // One lower bound per statement: SQLite seeks on only one of two lower bounds and filters by the other,
        // which would make every cursor page rescan the pages before it.
        var bound = lower
        var exclusive = false
        if let cursor, !cursor.bytes.lexicographicallyPrecedes(lower) {
            bound = cursor.bytes
            exclusive = true
        }
        while rangeStatements.count < topics.count {
            do throws(SQLiteError) {
                rangeStatements.append(
                    try db.prepare(
                        """
                        SELECT key, seg, blk, pos, len FROM entries
                        WHERE topic = ?1 AND key > ?2 AND key <= ?3 ORDER BY key
                        """
                    )
                )
                rangeStatementsInclusive.append(
                    try db.prepare(
                        """
                        SELECT key, seg, blk, pos, len FROM entries
                        WHERE topic = ?1 AND key >= ?2 AND key <= ?3 ORDER BY key
                        """
                    )
                )
            } catch { throw ArchiveError(error) }
        }
        let statements = exclusive ? rangeStatements : rangeStatementsInclusive
        var heads: [IndexRow] = []
        var sources: [Int] = []
        heads.reserveCapacity(topics.count)
        for (i, topic) in topics.enumerated() {
            let s = statements[i]
            s.reset()
            s.bind(1, blob: topicBytes(topic))
            s.bind(2, blob: bound)
            s.bind(3, blob: upper)
            if try sqlite(s.step()) {
                heads.append(try row(s, topic: topic))
                sources.append(i)
            }
        }
        defer { for i in 0..<topics.count { statements[i].reset() } }
        var heap = MergeHeap(keys: heads.map(\.key))
        var out: [IndexRow] = []
        out.reserveCapacity(min(limit, 4096))
        while let top = heap.minIndex {
            if out.count == limit { return (out, true) }
            out.append(heads[top])
            let s = statements[sources[top]]
            if try sqlite(s.step()) {
                heads[top] = try row(s, topic: topics[sources[top]])
                heap.replaceMin(with: heads[top].key)
            } else {
                heap.removeMin()
            }
        }
        return (out, false)
    }

    private func row(_ s: SQLiteStatement, topic: UInt32) throws(ArchiveError) -> IndexRow {
        let key = s.blob(0)
        guard key.count == 36 else {
            throw ArchiveError(.index, "an index row has a key of \(key.count) bytes, not 36; run reindex", path: db.path)
        }
        return IndexRow(key: key, topic: topic, location: try Self.location(s, from: 1))
    }
}

/// A row the writer is about to insert: an envelope's key and where its record goes.
struct PlannedRow {
    var topic: UInt32
    var sentTime: UInt32
    var hash: [UInt8]
    var location: RecordLocation
}

/// Count and sent-time range of one topic.
struct TopicStats: Sendable, Hashable {
    var count = 0
    var minSent = UInt32.max
    var maxSent = UInt32.min

    mutating func add(_ sent: UInt32) {
        count += 1
        minSent = min(minSent, sent)
        maxSent = max(maxSent, sent)
    }
}

func topicBytes(_ t: UInt32) -> [UInt8] {
    [UInt8(t >> 24), UInt8(truncatingIfNeeded: t >> 16), UInt8(truncatingIfNeeded: t >> 8), UInt8(truncatingIfNeeded: t)]
}
