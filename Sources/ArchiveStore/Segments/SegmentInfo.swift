/// One segment file and what it holds, as listed in the manifest.
public struct SegmentInfo: Codable, Sendable, Hashable {
    /// Sequence number of the segment's first record; also its file name.
    public var firstSequence: UInt64
    /// Bytes in the file (header and blocks).
    public var bytes: Int64
    /// Number of blocks.
    public var blocks: Int
    /// Number of records.
    public var records: Int
    /// Smallest sent time of a record (Unix seconds), or nil when empty.
    public var minSentTime: UInt32?
    /// Largest sent time of a record (Unix seconds), or nil when empty.
    public var maxSentTime: UInt32?
    /// When the segment was created (Unix seconds).
    public var created: UInt32
    /// True once the segment is closed for appends and listed in the manifest.
    public var sealed: Bool

    /// A segment of `firstSequence` that holds its header and nothing else yet.
    static func empty(firstSequence: UInt64, created: UInt32, sealed: Bool = false) -> SegmentInfo {
        SegmentInfo(
            firstSequence: firstSequence,
            bytes: Int64(SegmentHeader.length),
            blocks: 0,
            records: 0,
            minSentTime: nil,
            maxSentTime: nil,
            created: created,
            sealed: sealed
        )
    }

    /// The file name inside `segments/`.
    public var fileName: String { SegmentFormat.segmentFileName(firstSequence: firstSequence) }

    mutating func add(sentTime: UInt32) {
        minSentTime = Swift.min(minSentTime ?? sentTime, sentTime)
        maxSentTime = Swift.max(maxSentTime ?? sentTime, sentTime)
        records += 1
    }

    /// Counts the records of a block's raw payload, and the sent times of those that parse as envelopes.
    mutating func add(records payload: [UInt8]) {
        for record in BlockRecords(payload) {
            if let f = EnvelopeFields.parse(Array(payload[record.rlp])) { add(sentTime: f.sentTime) } else { records += 1 }
        }
    }
}
