import Foundation

/// Pulls stored envelopes in storage order, one block in memory at a time (up to the index high-water mark
/// taken when the iterator was made).
///
/// A damaged block is skipped, not fatal: the iterator logs a warning, resumes at the next valid block, and lists
/// what it skipped in ``damaged``.
public struct ArchiveRecordIterator {
    /// The damaged bytes skipped so far.
    public private(set) var damaged: [DamagedBlock] = []
    private let archive: Archive
    private let filter: EnvelopeFilter
    private var segments: [SegmentInfo]
    private var segmentIndex = 0
    private var scanner: SegmentScanner?
    private var mark: (segment: UInt64, offset: Int64)?
    private var block: (info: BlockInfo, records: BlockRecords.Iterator)?
    private var recordIndex = 0

    init(archive: Archive, filter: EnvelopeFilter) throws(ArchiveError) {
        self.archive = archive
        self.filter = filter
        let (all, m) = try archive.readSnapshot()
        mark = m
        segments = all.filter { s in m.map { s.firstSequence <= $0.segment } ?? false }
    }

    /// The next matching envelope, or nil at the end.
    public mutating func next() throws(ArchiveError) -> ArchivedEnvelope? {
        while true {
            if let (info, records) = block {
                var walk = records
                if let record = walk.next() {
                    block = (info, walk)
                    let seq = info.firstSequence + UInt64(recordIndex)
                    recordIndex += 1
                    let rlp = Array(walk.payload[record.rlp])
                    guard let f = EnvelopeFields.parse(rlp), filter.matches(sentTime: f.sentTime, topic: f.topic) else { continue }
                    return ArchivedEnvelope(rlp: rlp, sentTime: f.sentTime, topic: f.topic, arrival: record.arrival, sequence: seq)
                }
                block = nil
            }
            guard let item = scanner?.next() else {
                guard segmentIndex < segments.count, let mark else { return nil }
                let s = segments[segmentIndex]
                segmentIndex += 1
                let f: SegmentFile
                do throws(ArchiveError) {
                    f = try archive.readers.file(s.firstSequence)
                } catch  where error.errno == ENOENT {
                    let d = DamagedBlock(
                        segment: s.firstSequence,
                        path: archive.readers.path(s.firstSequence),
                        range: 0..<max(s.bytes, 0),
                        reason: Archive.missingSegment
                    )
                    archive.logger.warning("\(d)")
                    damaged.append(d)
                    scanner = nil
                    continue
                }
                let end = s.firstSequence == mark.segment ? mark.offset : (s.sealed ? s.bytes : try f.size())
                scanner = SegmentScanner(file: f, segment: s.firstSequence, to: end)
                continue
            }
            switch item {
            case .damaged(let range, let reason):
                let d = DamagedBlock(segment: segments[segmentIndex - 1].firstSequence, path: scanner!.file.path, range: range, reason: reason)
                archive.logger.warning("\(d)")
                damaged.append(d)
            case .block(let info, let payload):
                block = (info, BlockRecords(payload ?? []).makeIterator())
                recordIndex = 0
            }
        }
    }
}

extension Archive {
    /// An iterator over the envelopes matching `filter`, in storage order.
    public func records(_ filter: EnvelopeFilter = .all) throws(ArchiveError) -> ArchiveRecordIterator {
        try ArchiveRecordIterator(archive: self, filter: filter)
    }
}
