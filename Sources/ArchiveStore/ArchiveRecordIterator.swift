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
    private var file: SegmentFile?
    private var offset: Int64 = 0
    private var end: Int64 = 0
    private var mark: (segment: UInt64, offset: Int64)?
    private var block: (info: BlockInfo, raw: [UInt8])?
    private var position = 0
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
            if let (info, raw) = block, position < raw.count {
                let len = Int(raw.u32LE(position))
                let arrival = raw.u32LE(position + 4)
                let range = (position + SegmentFormat.recordHeaderLength)..<(position + SegmentFormat.recordHeaderLength + len)
                position = range.upperBound
                let seq = info.firstSequence + UInt64(recordIndex)
                recordIndex += 1
                let rlp = Array(raw[range])
                guard let f = EnvelopeFields.parse(rlp), filter.matches(sentTime: f.sentTime, topic: f.topic) else { continue }
                return ArchivedEnvelope(rlp: rlp, sentTime: f.sentTime, topic: f.topic, arrival: arrival, sequence: seq)
            }
            block = nil
            if file == nil || offset >= end {
                guard segmentIndex < segments.count, let mark else { return nil }
                let s = segments[segmentIndex]
                segmentIndex += 1
                let f: SegmentFile
                do throws(ArchiveError) {
                    f = try archive.readers.file(s.firstSequence)
                } catch where error.errno == ENOENT {
                    let d = DamagedBlock(segment: s.firstSequence, path: archive.readers.path(s.firstSequence),
                                         range: 0..<max(s.bytes, 0), reason: Archive.missingSegment)
                    archive.logger.warning("\(d)")
                    damaged.append(d)
                    file = nil
                    continue
                }
                file = f
                offset = Int64(SegmentFormat.segmentHeaderLength)
                end = s.firstSequence == mark.segment ? mark.offset : (s.sealed ? s.bytes : try f.size())
                continue
            }
            switch BlockReader.read(file!, segment: segments[segmentIndex - 1].firstSequence, at: offset, fileSize: end) {
            case .end:
                offset = end
            case .invalid(let why):
                let segment = segments[segmentIndex - 1].firstSequence
                let next = BlockReader.nextValidBlock(file!, from: offset + 1, to: end, segment: segment)
                let d = DamagedBlock(segment: segment, path: file!.path, range: offset..<next, reason: why)
                archive.logger.warning("\(d)")
                damaged.append(d)
                offset = next
            case .block(let info, let raw):
                block = (info, raw)
                position = 0
                recordIndex = 0
                offset += Int64(info.length)
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
