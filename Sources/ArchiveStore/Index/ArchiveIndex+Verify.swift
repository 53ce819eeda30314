internal import SQLite

/// The statements verify and repair run on the index.
extension ArchiveIndex {
    /// SQLite's `quick_check` of the index file: the problems it reports, none for a sound file.
    func quickCheck() throws(ArchiveError) -> [String] {
        do throws(SQLiteError) {
            let check = try db.prepare("PRAGMA quick_check")
            var problems: [String] = []
            while try check.step() {
                let t = check.text(0)
                if t != "ok" { problems.append(t) }
            }
            return problems
        } catch { throw ArchiveError(error) }
    }

    /// Every row, in storage order (segment, block offset, position in the block), for the merge with the segments.
    func rowsInStorageOrder() throws(ArchiveError) -> StoredRows {
        StoredRows(
            try sqlite(
                db.prepare(
                    """
                    SELECT topic, key, seg, blk, pos, len FROM entries
                    ORDER BY seg, \(Self.blockOffsetSQL), pos
                    """
                )
            )
        )
    }

    /// The topics whose row count in `entries` differs from their `topics` row (a missing row counts 0).
    func topicStatsMismatches() throws(ArchiveError) -> [(topicHex: String, rows: Int64, recorded: Int64)] {
        do throws(SQLiteError) {
            let s = try db.prepare(
                """
                SELECT hex(e.topic), e.n, t.count FROM (SELECT topic, count(*) AS n FROM entries GROUP BY topic) e
                LEFT JOIN topics t ON t.topic = e.topic WHERE t.count IS NULL OR t.count != e.n
                """
            )
            var out: [(topicHex: String, rows: Int64, recorded: Int64)] = []
            while try s.step() { out.append((s.text(0), s.int64(1), s.int64(2))) }
            return out
        } catch { throw ArchiveError(error) }
    }

    /// Rows of the index as stored, one at a time: the columns unchecked, since a damaged index may hold any value.
    final class StoredRows: @unchecked Sendable {
        /// One row's columns as stored.
        struct Row {
            var topic: [UInt8]
            var key: [UInt8]
            var seg: Int64
            var blk: Int64
            var pos: Int64
            var len: Int64
        }

        private let statement: SQLiteStatement

        fileprivate init(_ statement: SQLiteStatement) { self.statement = statement }

        /// The next row, or nil after the last.
        func next() throws(ArchiveError) -> Row? {
            let s = statement
            guard try sqlite(s.step()) else { return nil }
            return Row(topic: s.blob(0), key: s.blob(1), seg: s.int64(2), blk: s.int64(3), pos: s.int64(4), len: s.int64(5))
        }

        /// Ends the read, releasing SQLite's read snapshot.
        func reset() { statement.reset() }
    }
}
