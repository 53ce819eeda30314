import Foundation
import Whisper

extension Archive {
    /// One page of envelopes matching `filter`, in ascending (sent time, hash) order — status-go's LevelDB key order.
    ///
    /// Topic and bloom selections are answered through the index (a bloom is expanded to the stored topics
    /// it covers). The envelope at `cursor` is not returned again.
    /// - Parameters:
    ///   - limit: at most this many envelopes (≥ 1).
    ///   - cursor: resume strictly after this 36-byte key prefix.
    /// - Returns: the page; its `cursor` is set only when more matching envelopes remain.
    public func query(_ filter: EnvelopeFilter, limit: Int, after cursor: Cursor? = nil) throws(ArchiveError) -> QueryPage {
        guard limit >= 1 else { throw ArchiveError(.invalidArgument, "the limit must be at least 1, got \(limit)") }
        guard filter.from <= filter.to else { return QueryPage(envelopes: [], cursor: nil) }
        var attempt = 0
        while true {
            // A reader beside a writer retries first: a compaction may have replaced a file between reading the
            // index and the record. A file still missing then (or at once, in the writer's process, where
            // compaction holds the swap lock) is damage: its records are skipped and reported.
            let skipMissing = writer != nil || attempt >= 3
            do {
                return try swapLock.withReadLock { () throws(ArchiveError) -> QueryPage in
                    var envelopes: [ArchivedEnvelope] = []
                    envelopes.reserveCapacity(min(limit, 4096))
                    var page = try queryLocked(filter, limit: limit, after: cursor, skipMissing: skipMissing) { envelopes.append($0) }
                    page.envelopes = envelopes
                    return page
                }
            } catch  where !skipMissing && error.errno == ENOENT {
                attempt += 1
            }
        }
    }

    /// The segments to read in storage order and the index high-water mark, with every segment file up to the mark
    /// opened, so that a compaction in another process cannot delete a file from under the read.
    func readSnapshot() throws(ArchiveError) -> (segments: [SegmentInfo], mark: (segment: UInt64, offset: Int64)?) {
        var attempt = 0
        while true {
            let mark = try withIndex { (i) throws(ArchiveError) in try i.highWaterMark() }
            let segments = try self.segments()
            do {
                if writer == nil, let mark {
                    for s in segments where s.firstSequence <= mark.segment { _ = try readers.currentFile(s.firstSequence) }
                }
                return (segments, mark)
            } catch  where error.errno == ENOENT {
                // A compaction in another process swapped files between the two reads: read again. A file still
                // missing after that is damage, which the reads report and skip.
                attempt += 1
                if attempt >= 5 { return (segments, mark) }
            }
        }
    }

    static let missingSegment = "the segment file is missing"

    /// One page, as `query(_:limit:after:)`, handing each envelope to `body` as soon as it is read, so that a
    /// caller can send the first envelopes while the rest are read (`serve` does). The returned page holds no
    /// envelopes, only the cursor and the damage. Unlike `query`, it does not retry a segment file that a
    /// compaction in another process replaced meanwhile: its records are skipped and reported as missing.
    public func query(
        _ filter: EnvelopeFilter,
        limit: Int,
        after cursor: Cursor? = nil,
        each body: (ArchivedEnvelope) -> Void
    ) throws(ArchiveError) -> QueryPage {
        guard limit >= 1 else { throw ArchiveError(.invalidArgument, "the limit must be at least 1, got \(limit)") }
        guard filter.from <= filter.to else { return QueryPage(envelopes: [], cursor: nil) }
        return try swapLock.withReadLock { () throws(ArchiveError) -> QueryPage in
            try queryLocked(filter, limit: limit, after: cursor, skipMissing: true, each: body)
        }
    }

    private func queryLocked(
        _ filter: EnvelopeFilter,
        limit: Int,
        after cursor: Cursor?,
        skipMissing: Bool,
        each: (ArchivedEnvelope) -> Void
    ) throws(ArchiveError) -> QueryPage {
        let (rows, more) = try withIndex { (index) throws(ArchiveError) -> ([IndexRow], Bool) in
            let topics = try selectTopics(filter, index: index)
            if topics.isEmpty { return ([], false) }
            return try index.page(
                topics: topics,
                sentFrom: filter.from,
                to: filter.to,
                after: cursor,
                limit: limit
            )
        }
        var damaged: [DamagedBlock] = []
        for row in rows {
            let rlp: [UInt8]
            let arrival: UInt32
            do throws(ArchiveError) {
                (rlp, arrival) = try readers.read(row.location)
            } catch  where error.code == .corrupt {
                let d = DamagedBlock(
                    segment: row.location.segment,
                    path: error.path ?? readers.path(row.location.segment),
                    range: row.location.blockOffset..<(row.location.blockOffset + 1),
                    reason: error.message
                )
                if damaged.last?.segment != d.segment || damaged.last?.range != d.range {
                    logger.warning("\(d)")
                    damaged.append(d)
                }
                continue
            } catch  where skipMissing && error.errno == ENOENT {
                // One report per missing file, as export and scan give it: the whole file, as the manifest knew it.
                if !damaged.contains(where: { $0.segment == row.location.segment && $0.reason == Self.missingSegment }) {
                    let bytes = (try? segments().first { $0.firstSequence == row.location.segment }?.bytes) ?? nil
                    let d = DamagedBlock(
                        segment: row.location.segment,
                        path: readers.path(row.location.segment),
                        range: 0..<max(bytes ?? 0, 0),
                        reason: Self.missingSegment
                    )
                    logger.warning("\(d)")
                    damaged.append(d)
                }
                continue
            }
            let key = Cursor(trusted: row.key)
            let envelope = ArchivedEnvelope(
                rlp: rlp,
                sentTime: key.sentTime,
                topic: Topic(rawValue: row.topic),
                arrival: arrival,
                hash: key.hash
            )
            each(envelope)
        }
        let next: Cursor? = more ? try? Cursor(bytes: rows[rows.count - 1].key) : nil
        return QueryPage(envelopes: [], cursor: next, damaged: damaged)
    }

    /// Calls `body` for every envelope matching `filter`.
    ///
    /// `.storage` order reads the segments sequentially up to the index's high-water mark at the start of the scan;
    /// `.key` order pages through the index. Damaged blocks and records are skipped with a warning.
    /// - Returns: what was skipped as damaged.
    @discardableResult
    public func scan(
        _ filter: EnvelopeFilter = .all,
        order: ScanOrder = .storage,
        _ body: (ArchivedEnvelope) throws -> Void
    ) throws -> [DamagedBlock] {
        switch order {
        case .key:
            var cursor: Cursor?
            var damaged: [DamagedBlock] = []
            repeat {
                let page = try query(filter, limit: 4096, after: cursor)
                for e in page.envelopes { try body(e) }
                damaged += page.damaged
                cursor = page.cursor
            } while cursor != nil
            return damaged
        case .storage:
            // Compaction cannot swap segments under a storage scan of this archive object.
            return try swapLock.withReadLock { () throws -> [DamagedBlock] in
                var iterator = try records(filter)
                while let e = try iterator.next() { try body(e) }
                return iterator.damaged
            }
        }
    }

    func selectTopics(_ filter: EnvelopeFilter, index: ArchiveIndex) throws(ArchiveError) -> [UInt32] {
        switch filter.topics {
        case .all:
            return try index.topics(overlapping: filter.from, filter.to)
        case .list(let list):
            return Array(Set(list.map(\.rawValue)))
        case .bloom(let bloom):
            let candidates = try index.topics(overlapping: filter.from, filter.to)
            if bloom.isFull { return candidates }
            return candidates.filter { bloom.matches(Topic(rawValue: $0).bloom) }
        }
    }
}
