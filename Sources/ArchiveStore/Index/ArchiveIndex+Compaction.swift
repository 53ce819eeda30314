internal import SQLite
import Whisper

/// The statements compaction runs on the index: counts to plan with, the rows of the segments it rewrites, and
/// the swap of the rows once the new segments are in place.
extension ArchiveIndex {
    // MARK: planning

    /// Index rows per segment (of `topics` only, when given); rows with a negative segment are not counted.
    func rowCountsPerSegment(topics: Set<UInt32>?) throws(ArchiveError) -> [UInt64: Int] {
        do throws(SQLiteError) {
            var out: [UInt64: Int] = [:]
            if let topics {
                let s = try db.prepare("SELECT seg, count(*) FROM entries WHERE topic = ?1 GROUP BY seg")
                for t in topics {
                    s.reset()
                    s.bind(1, blob: topicBytes(t))
                    while try s.step() { if s.int64(0) >= 0 { out[UInt64(s.int64(0)), default: 0] += Int(s.int64(1)) } }
                }
            } else {
                let s = try db.prepare("SELECT seg, count(*) FROM entries GROUP BY seg")
                while try s.step() { if s.int64(0) >= 0 { out[UInt64(s.int64(0))] = Int(s.int64(1)) } }
            }
            return out
        } catch { throw ArchiveError(error) }
    }

    /// The rows pointing into `segments`, in storage order (segment, block offset, position).
    func rowsInStorageOrder(inSegments segments: [UInt64]) throws(ArchiveError) -> SegmentRows {
        SegmentRows(
            try sqlite(
                db.prepare(
                    """
                    SELECT seg, \(Self.blockOffsetSQL) AS off, pos, topic, key FROM entries
                    WHERE seg IN (\(segments.map(String.init).joined(separator: ","))) ORDER BY seg, off, pos
                    """
                )
            )
        )
    }

    /// A lookup of keys in the index, prepared once for many keys.
    func keyLookup() throws(ArchiveError) -> KeyLookup {
        KeyLookup(try sqlite(db.prepare("SELECT 1 FROM entries WHERE topic = ?1 AND key = ?2")))
    }

    /// The rows of some segments, one at a time, in storage order: see ``rowsInStorageOrder(inSegments:)``.
    final class SegmentRows {
        /// One row: where its record is (the block offset without the compression mark) and its key (the row's
        /// 36-byte key and 4-byte topic).
        struct Row {
            var seg: UInt64
            var off: Int64
            var pos: Int
            var key: EnvelopeKey
        }

        private let statement: SQLiteStatement
        private var done = false

        fileprivate init(_ statement: SQLiteStatement) { self.statement = statement }

        /// The next row, or nil after the last (and from then on).
        func next() throws(ArchiveError) -> Row? {
            let s = statement
            guard !done, try sqlite(s.step()) else {
                done = true
                return nil
            }
            let topic = s.blob(3)
            let key = s.blob(4)
            // The query selects listed segments only, so the segment is never negative; the key columns are checked.
            guard topic.count == 4, key.count == Cursor.length, let envelopeKey = try? EnvelopeKey(bytes: key + topic) else {
                throw ArchiveError(
                    .corrupt,
                    "an index row of segment \(s.int64(0)) has a \(key.count)-byte key and a \(topic.count)-byte topic "
                        + "(expected 36 and 4): run verify --repair",
                    segment: UInt64(clamping: s.int64(0))
                )
            }
            return Row(seg: UInt64(s.int64(0)), off: s.int64(1), pos: Int(s.int64(2)), key: envelopeKey)
        }

        /// Ends the read.
        func reset() { statement.reset() }
    }

    /// Whether keys are in the index, through one prepared statement.
    final class KeyLookup {
        private let statement: SQLiteStatement

        fileprivate init(_ statement: SQLiteStatement) { self.statement = statement }

        /// True when the index holds a row for `key` (its topic, and its first 36 bytes as the row key).
        func contains(_ key: EnvelopeKey) throws(ArchiveError) -> Bool {
            let s = statement
            s.reset()
            s.bind(1, blob: key.bytes[36..<40])
            s.bind(2, blob: key.bytes[0..<36])
            defer { s.reset() }
            return try sqlite(s.step())
        }
    }

    // MARK: the swap

    /// Each topic with the earliest sent time of its rows, as the topics table says.
    func topicMinSentTimes() throws(ArchiveError) -> [(topic: Topic, minSent: Int64)] {
        do throws(SQLiteError) {
            let topics = try db.prepare("SELECT topic, min_sent FROM topics")
            var all: [(topic: Topic, minSent: Int64)] = []
            while try topics.step() { all.append((Topic(bytes: topics.blob(0)), topics.int64(1))) }
            return all
        } catch { throw ArchiveError(error) }
    }

    /// Deletes, for each of `topics`, its rows in `segments` sent before `sentTime`; returns the topics that
    /// lost rows, with how many. The topics table is not updated (see ``subtractFromTopicCounts(_:)``).
    func deleteRows(topics: [Topic], sentBefore sentTime: UInt32, inSegments segments: [UInt64]) throws(ArchiveError) -> [Topic: Int] {
        let list = segments.map(String.init).joined(separator: ",")
        let bound = EnvelopeKey.lowerBound(sentTime: sentTime).cursor
        do throws(SQLiteError) {
            let del = try db.prepare("DELETE FROM entries WHERE topic = ?1 AND key < ?2 AND seg IN (\(list))")
            var removed: [Topic: Int] = [:]
            for topic in topics {
                del.reset()
                del.bind(1, blob: topic.bytes)
                del.bind(2, blob: bound.bytes)
                let n = try del.run()
                if n > 0 { removed[topic, default: 0] += n }
            }
            return removed
        } catch { throw ArchiveError(error) }
    }

    /// A writer of rows moved by a rewrite (new locations of indexed keys, and rows for keys not indexed yet).
    func rowMover() throws(ArchiveError) -> RowMover {
        do throws(SQLiteError) {
            return RowMover(
                moved: try db.prepare("UPDATE entries SET seg = ?3, blk = ?4, pos = ?5, len = ?6 WHERE topic = ?1 AND key = ?2"),
                insert: try db.prepare("INSERT OR IGNORE INTO entries(topic, key, seg, blk, pos, len) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            )
        } catch { throw ArchiveError(error) }
    }

    /// Points rows at their records' new places, through two prepared statements.
    final class RowMover {
        private let moved: SQLiteStatement
        private let insert: SQLiteStatement

        fileprivate init(moved: SQLiteStatement, insert: SQLiteStatement) {
            self.moved = moved
            self.insert = insert
        }

        /// Points the row of `key` at `location`, or, when `isNew`, inserts it unless the key is indexed; returns
        /// how many rows changed (0 or 1).
        func place(_ key: EnvelopeKey, at location: RecordLocation, isNew: Bool) throws(ArchiveError) -> Int {
            let s = isNew ? insert : moved
            s.reset()
            ArchiveIndex.bindRow(s, key: key, location: location)
            return try sqlite(s.run())
        }
    }

    /// The rows pointing into `segments`, counted per topic.
    func rowCountsPerTopic(inSegments segments: [UInt64]) throws(ArchiveError) -> [(topic: Topic, rows: Int)] {
        let list = segments.map(String.init).joined(separator: ",")
        do throws(SQLiteError) {
            let gone = try db.prepare("SELECT topic, count(*) FROM entries WHERE seg IN (\(list)) GROUP BY topic")
            var out: [(topic: Topic, rows: Int)] = []
            while try gone.step() { out.append((Topic(bytes: gone.blob(0)), Int(gone.int64(1)))) }
            return out
        } catch { throw ArchiveError(error) }
    }

    /// Deletes every row pointing into `segments`. The topics table is not updated.
    func deleteRows(inSegments segments: [UInt64]) throws(ArchiveError) {
        let list = segments.map(String.init).joined(separator: ",")
        try sqlite(db.execute("DELETE FROM entries WHERE seg IN (\(list))"))
    }

    /// Lowers the topics' counts by the rows removed from each, then drops the topics left without rows.
    func subtractFromTopicCounts(_ removed: [Topic: Int]) throws(ArchiveError) {
        do throws(SQLiteError) {
            let dec = try db.prepare("UPDATE topics SET count = count - ?2 WHERE topic = ?1")
            for (topic, n) in removed {
                dec.reset()
                dec.bind(1, blob: topic.bytes)
                dec.bind(2, Int64(n))
                try dec.run()
            }
            try db.execute("DELETE FROM topics WHERE count <= 0")
        } catch { throw ArchiveError(error) }
    }
}
