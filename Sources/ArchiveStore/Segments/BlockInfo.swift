/// Where one block lies and what its header says.
public struct BlockInfo: Sendable, Hashable {
    /// The segment holding the block (its first sequence number).
    public var segment: UInt64
    /// Byte offset of the block header inside the segment file.
    public var offset: Int64
    /// Header plus stored payload, in bytes.
    public var length: Int
    /// Sequence number of the first record.
    public var firstSequence: UInt64
    /// Number of records.
    public var recordCount: Int
    /// Raw (uncompressed) payload length.
    public var rawLength: Int
    /// True when the payload is LZ4-compressed.
    public var compressed: Bool

    /// The byte range of the block inside its segment file.
    public var byteRange: Range<Int64> { offset..<(offset + Int64(length)) }
}

extension BlockInfo {
    /// The block at `offset` of `segment` whose header is `header`.
    init(_ header: BlockHeader, segment: UInt64, offset: Int64) {
        self.init(
            segment: segment,
            offset: offset,
            length: header.blockLength,
            firstSequence: header.firstSequence,
            recordCount: header.recordCount,
            rawLength: header.rawLength,
            compressed: header.compressed
        )
    }
}
