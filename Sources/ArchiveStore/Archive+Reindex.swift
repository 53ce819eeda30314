import Whisper

extension Archive {
    /// Rebuilds the index (all of it, or the rows of `topics`) from the segments and reports how the old one differed.
    ///
    /// - Parameter dryRun: only compare; leave the index as it is.
    public func reindex(topics: [Topic]? = nil, dryRun: Bool = false) throws(ArchiveError) -> ReindexReport {
        guard let writer else { throw ArchiveError(.readOnly, "reindex needs the archive open as the writer") }
        return try writer.exclusive { () throws(ArchiveError) -> ReindexReport in
            let index = writer.index
            let db = index.db
            let selected = topics.map { Set($0.map(\.rawValue)) }
            try db.execute("""
                DROP TABLE IF EXISTS temp.rebuild;
                CREATE TEMP TABLE rebuild(topic BLOB NOT NULL, key BLOB NOT NULL, seg INTEGER NOT NULL, blk INTEGER NOT NULL,
                    pos INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY (topic, key)) WITHOUT ROWID;
                DROP TABLE IF EXISTS temp.sel;
                CREATE TEMP TABLE sel(topic BLOB PRIMARY KEY) WITHOUT ROWID;
                """)
            defer { try? db.execute("DROP TABLE IF EXISTS temp.rebuild; DROP TABLE IF EXISTS temp.sel;") }
            if let selected {
                let s = try db.prepare("INSERT OR IGNORE INTO temp.sel VALUES (?1)")
                for t in selected { s.bind(1, blob: topicBytes(t)); try s.run() }
            }
            // Fill temp.rebuild from the segments.
            let ins = try db.prepare("INSERT OR IGNORE INTO temp.rebuild VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            var report = ReindexReport()
            try db.transaction { () throws(ArchiveError) in
                for s in writer.manifest.segments + [writer.active] {
                    let file = s.firstSequence == writer.active.firstSequence ? writer.activeFile : try readers.file(s.firstSequence)
                    let (end, invalid) = try Archive.forEachBlock(file, segment: s.firstSequence,
                                                                  from: Int64(SegmentFormat.segmentHeaderLength), to: s.bytes) { (block, raw) throws(ArchiveError) in
                        var failure: ArchiveError?
                        BlockReader.forEachRecord(raw) { range, _, _ in
                            let rlp = Array(raw[range])
                            guard failure == nil, let f = EnvelopeFields.parse(rlp) else { return }
                            if let selected, !selected.contains(f.topic.rawValue) { return }
                            let key = Array(EnvelopeKey(sentTime: f.sentTime, hash: EnvelopeFields.hash(rlp), topic: f.topic).bytes[0..<36])
                            let loc = RecordLocation(segment: block.segment, blockOffset: block.offset, compressed: block.compressed,
                                                     position: range.lowerBound, length: range.count)
                            ins.bind(1, blob: f.topic.bytes)
                            ins.bind(2, blob: key)
                            ins.bind(3, Int64(loc.segment))
                            ins.bind(4, loc.storedBlock)
                            ins.bind(5, Int64(loc.position))
                            ins.bind(6, Int64(loc.length))
                            do throws(ArchiveError) { try ins.run() } catch { failure = error }
                        }
                        if let failure { throw failure }
                    }
                    if let invalid {
                        throw ArchiveError(.corrupt, "invalid block: \(invalid); run verify --repair", path: file.path,
                                           segment: s.firstSequence, offset: end)
                    }
                }
            }
            let scope = selected == nil ? "" : " WHERE topic IN (SELECT topic FROM temp.sel)"
            let scopeE = selected == nil ? "" : " AND e.topic IN (SELECT topic FROM temp.sel)"
            report.entries = Int(try db.scalar("SELECT count(*) FROM temp.rebuild"))
            func collect(_ sql: String) throws(ArchiveError) -> Int {
                let s = try db.prepare(sql)
                var n = 0
                while try s.step() {
                    n += 1
                    if report.examples.count < 30 { report.examples.append((s.blob(1) + s.blob(0)).hexString) }
                }
                return n
            }
            report.missing = try collect("SELECT r.topic, r.key FROM temp.rebuild r WHERE NOT EXISTS (SELECT 1 FROM main.entries e WHERE e.topic = r.topic AND e.key = r.key)")
            report.extra = try collect("SELECT e.topic, e.key FROM main.entries e WHERE NOT EXISTS (SELECT 1 FROM temp.rebuild r WHERE e.topic = r.topic AND e.key = r.key)" + scopeE)
            report.moved = try collect("""
                SELECT r.topic, r.key FROM temp.rebuild r JOIN main.entries e ON e.topic = r.topic AND e.key = r.key
                WHERE e.seg != r.seg OR e.blk != r.blk OR e.pos != r.pos OR e.len != r.len
                """)
            if !dryRun {
                try db.transaction { () throws(ArchiveError) in
                    try db.execute("DELETE FROM main.entries" + scope)
                    try db.execute("INSERT INTO main.entries SELECT * FROM temp.rebuild")
                    try index.rebuildTopics()
                    try index.setHighWaterMark(segment: writer.active.firstSequence, offset: writer.active.bytes)
                }
            }
            return report
        }
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        s.reserveCapacity(count * 2)
        for b in self { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
}
