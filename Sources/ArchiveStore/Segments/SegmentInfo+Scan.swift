extension SegmentInfo {
    /// An unsealed segment as its valid blocks describe it: read from the first block of `file` to `end`, stopping at
    /// the first invalid block. ``bytes`` is where the valid blocks end.
    /// - Returns: the segment, the sequence number after its last record, and why the bytes after its valid blocks
    ///   are not a block (nil when the blocks reach `end`).
    /// - Throws: ``ArchiveError`` (corrupt) when a valid block does not start at the sequence number that follows
    ///   the block before it.
    static func scanningUnsealed(
        _ file: SegmentFile,
        first: UInt64,
        created: UInt32,
        to end: Int64
    ) throws(ArchiveError)
        -> (info: SegmentInfo, nextSequence: UInt64, invalid: String?)
    {
        var info = SegmentInfo.empty(firstSequence: first, created: created)
        var expected = first
        let (validEnd, invalid) = try SegmentScanner.forEachValidBlock(file, segment: first, to: end) { (block, raw) throws(ArchiveError) in
            guard block.firstSequence == expected else {
                throw ArchiveError(
                    .corrupt,
                    "block sequence \(block.firstSequence) where \(expected) was expected",
                    path: file.path,
                    segment: first,
                    offset: block.offset
                )
            }
            info.add(records: raw)
            expected += UInt64(block.recordCount)
            info.blocks += 1
        }
        info.bytes = validEnd
        return (info, expected, invalid)
    }
}
