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

/// One index row: the 36-byte key prefix (sent time ‖ hash), the topic, and the location.
struct IndexRow: Sendable {
    var key: [UInt8]
    var topic: UInt32
    var location: RecordLocation
}
