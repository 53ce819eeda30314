internal import SQLite

/// The statements recovery runs on the index as it brings it level with the segments.
extension ArchiveIndex {
    /// The block offset of the row's block, whether stored plain (`blk`) or marked LZ4-compressed (`-blk - 1`).
    static let blockOffsetSQL = "(CASE WHEN blk < 0 THEN -blk - 1 ELSE blk END)"

    /// Empties the index for a rebuild from the segments: every row, every topic's stats and the high-water mark.
    func removeAllRows() throws(ArchiveError) {
        try sqlite(db.execute("DELETE FROM entries; DELETE FROM topics; DELETE FROM meta WHERE name IN ('hwm_segment', 'hwm_offset')"))
    }

    /// Deletes the rows that point into a segment after `segment`, or into `segment` at or after block offset
    /// `offset`; returns how many rows went. The topics table is not updated (see ``rebuildTopics()``).
    func deleteRows(after segment: UInt64, fromOffset offset: Int64) throws(ArchiveError) -> Int {
        do throws(SQLiteError) {
            let s = try db.prepare(
                """
                DELETE FROM entries WHERE seg > ?1 OR (seg = ?1 AND \(Self.blockOffsetSQL) >= ?2)
                """
            )
            s.bind(1, Int64(segment))
            s.bind(2, offset)
            return try s.run()
        } catch { throw ArchiveError(error) }
    }

    /// Opens the index file at `path` once as a writer and reads from it, which makes SQLite take a log left by
    /// its writer into the file.
    static func takeInLog(path: String) throws(ArchiveError) {
        do throws(SQLiteError) {
            let db = try SQLiteDatabase(path: path, readOnly: false, create: false)
            _ = try db.scalar("SELECT count(*) FROM sqlite_master")
        } catch { throw ArchiveError(error) }
    }
}
