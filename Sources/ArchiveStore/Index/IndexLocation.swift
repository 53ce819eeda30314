/// Where a record lives: segment, block, and the RLP's place inside the block's raw payload.
public struct RecordLocation: Sendable, Hashable {
    /// The segment (its first sequence number).
    public var segment: UInt64
    /// Byte offset of the block header inside the segment file.
    public var blockOffset: Int64
    /// True when the block payload is LZ4-compressed.
    public var compressed: Bool
    /// Offset of the RLP inside the block's raw payload.
    public var position: Int
    /// RLP length.
    public var length: Int

    /// The block column as stored in the index: the offset, or `-(offset + 1)` for a compressed block.
    var storedBlock: Int64 { compressed ? -(blockOffset + 1) : blockOffset }

    init(segment: UInt64, storedBlock: Int64, position: Int, length: Int) {
        self.segment = segment
        self.compressed = storedBlock < 0
        self.blockOffset = storedBlock < 0 ? -storedBlock - 1 : storedBlock
        self.position = position
        self.length = length
    }

    init(segment: UInt64, blockOffset: Int64, compressed: Bool, position: Int, length: Int) {
        self.segment = segment
        self.blockOffset = blockOffset
        self.compressed = compressed
        self.position = position
        self.length = length
    }
}

extension RecordLocation {
    /// Block offsets at or above this (1 TiB) are not locations in a segment file of this format.
    static let maxBlockOffset: Int64 = 1 << 40

    /// A location from the index's `seg, blk, pos, len` columns, or nil when a value is out of range (a damaged
    /// or hostile index): every number read from disk is checked before arithmetic.
    init?(indexColumns segment: Int64, storedBlock: Int64, position: Int64, length: Int64) {
        guard segment >= 0, storedBlock != .min else { return nil }
        let offset = storedBlock < 0 ? -storedBlock - 1 : storedBlock
        let maxPayload = Int64(SegmentFormat.maxBlockPayload)
        guard offset >= Int64(SegmentHeader.length), offset < Self.maxBlockOffset,
            position >= Int64(SegmentFormat.recordHeaderLength), position <= maxPayload,
            length >= 0, length <= maxPayload - position
        else { return nil }
        self.init(segment: UInt64(segment), storedBlock: storedBlock, position: Int(position), length: Int(length))
    }
}

/// One index row: the 36-byte key prefix (sent time ‖ hash), the topic, and the location.
struct IndexRow: Sendable {
    var key: [UInt8]
    var topic: UInt32
    var location: RecordLocation
}
