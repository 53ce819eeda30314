/// Where the writer stands between two blocks: the active segment as it will be once the blocks before are written,
/// and the next record's sequence number. A failed write leaves the archive at the position of its block.
struct WriterPosition {
    var active: SegmentInfo
    var nextSequence: UInt64
}
