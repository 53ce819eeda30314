/// A block the writer thread built, to be written at `offset` of `file`.
struct PendingBlock {
    enum Content {
        /// Encoded by the writer thread (a block that looked compressible, stored LZ4 if that saved 1/16).
        case encoded(header: [UInt8], body: [UInt8])
        /// Raw records, which the block writer copies into the block, checksums and writes.
        case raw(BlockEncoder, firstSequence: UInt64)
    }

    let file: SegmentFile
    let offset: Int64
    let content: Content
    /// The writer's position just before this block.
    let before: WriterPosition

    /// Bytes the block takes in the segment.
    var length: Int {
        switch content {
        case .encoded(let header, let body): header.count + body.count
        case .raw(let records, _): BlockHeader.length + records.rawSize
        }
    }
}
