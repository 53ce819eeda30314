import EthCrypto
import Whisper

extension Archive {
    /// Rebuilds the index (all of it, or the rows of `topics`) from the segments and reports how the old one differed.
    ///
    /// - Parameter dryRun: only compare; leave the index as it is.
    /// A reader (beside a running writer, or on a read-only archive) can only compare (`dryRun`); it writes nothing:
    /// the rebuilt rows go to a temporary table outside the archive.
    public func reindex(topics: [Topic]? = nil, dryRun: Bool = false) throws(ArchiveError) -> ReindexReport {
        guard let writer else {
            guard dryRun else { throw ArchiveError(.readOnly, "reindex needs the archive open as the writer") }
            return try swapLock.withReadLock { () throws(ArchiveError) -> ReindexReport in
                try withIndex { (index) throws(ArchiveError) -> ReindexReport in
                    // The connection cannot write the index file (it is opened read-only); temporary tables live elsewhere.
                    try index.db.execute("PRAGMA query_only = 0")
                    defer { try? index.db.execute("PRAGMA query_only = 1") }
                    var sources: [(SegmentInfo, SegmentFile)] = []
                    for s in try segments() {
                        let file = try readers.file(s.firstSequence)
                        var info = s
                        if !s.sealed {
                            info.bytes = try SegmentScanner.forEachValidBlock(file, segment: s.firstSequence, to: try file.size()) { _, _ in }.end
                        }
                        sources.append((info, file))
                    }
                    return try Archive.compareWithSegments(index: index, sources: sources, topics: topics, replace: nil)
                }
            }
        }
        return try writer.withSnapshot { (segments, index) throws(ArchiveError) -> ReindexReport in
            var sources: [(SegmentInfo, SegmentFile)] = []
            for s in segments.sealed { sources.append((s, try readers.file(s.firstSequence))) }
            sources.append((segments.active, segments.activeFile))
            return try Archive.compareWithSegments(index: index, sources: sources, topics: topics,
                                                   replace: dryRun ? nil : (segments.active.firstSequence, segments.active.bytes))
        }
    }

    /// Rebuilds the rows of `topics` (or all) from `sources` into a temporary table, counts how the index differs,
    /// and, with `replace` (the high-water mark to set), puts the rebuilt rows in its place.
    static func compareWithSegments(index: ArchiveIndex, sources: [(SegmentInfo, SegmentFile)], topics: [Topic]?,
                                    replace: (segment: UInt64, offset: Int64)?) throws(ArchiveError) -> ReindexReport {
        do {
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
            try db.transaction(immediate: false) { () throws(ArchiveError) in
                for (s, file) in sources {
                    let (end, invalid) = try SegmentScanner.forEachValidBlock(file, segment: s.firstSequence, to: s.bytes) { (block, raw) throws(ArchiveError) in
                        for range in BlockRecords(raw).map(\.rlp) {
                            let rlp = Array(raw[range])
                            guard let f = EnvelopeFields.parse(rlp) else { continue }
                            if let selected, !selected.contains(f.topic.rawValue) { continue }
                            let key = Array(EnvelopeKey(sentTime: f.sentTime, hash: EnvelopeFields.hash(rlp), topic: f.topic).bytes[0..<36])
                            let loc = RecordLocation(segment: block.segment, blockOffset: block.offset, compressed: block.compressed,
                                                     position: range.lowerBound, length: range.count)
                            ins.bind(1, blob: f.topic.bytes)
                            ins.bind(2, blob: key)
                            ins.bind(3, Int64(loc.segment))
                            ins.bind(4, loc.storedBlock)
                            ins.bind(5, Int64(loc.position))
                            ins.bind(6, Int64(loc.length))
                            try ins.run()
                        }
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
                    if report.examples.count < 30 { report.examples.append((s.blob(1) + s.blob(0)).hex) }
                }
                return n
            }
            report.missing = try collect("SELECT r.topic, r.key FROM temp.rebuild r WHERE NOT EXISTS (SELECT 1 FROM main.entries e WHERE e.topic = r.topic AND e.key = r.key)")
            report.extra = try collect("SELECT e.topic, e.key FROM main.entries e WHERE NOT EXISTS (SELECT 1 FROM temp.rebuild r WHERE e.topic = r.topic AND e.key = r.key)" + scopeE)
            report.moved = try collect("""
                SELECT r.topic, r.key FROM temp.rebuild r JOIN main.entries e ON e.topic = r.topic AND e.key = r.key
                WHERE e.seg != r.seg OR e.blk != r.blk OR e.pos != r.pos OR e.len != r.len
                """)
            if let replace {
                try db.transaction { () throws(ArchiveError) in
                    try db.execute("DELETE FROM main.entries" + scope)
                    try db.execute("INSERT INTO main.entries SELECT * FROM temp.rebuild")
                    try index.rebuildTopics()
                    try index.setHighWaterMark(segment: replace.segment, offset: replace.offset)
                }
            }
            return report
        }
    }
}

