/// The records of a block's raw (decompressed) payload, in order, as the table "Records" of docs/FORMAT.md lays
/// them out back to back:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | L = length of the envelope RLP |
/// | 4 | 4 | arrival time, Unix seconds; 0 = unknown |
/// | 8 | L | the envelope's RLP |
///
/// The one walk over a payload. It stops at the first record that does not fit, so it never reads outside the
/// payload; ``count(in:)`` says whether the records fill it exactly, as a valid block's do.
struct BlockRecords: Sequence {
    /// One record: where its RLP lies in the payload, and its arrival time.
    struct Record: Hashable, Sendable {
        /// The RLP's byte range inside the raw payload (its start is what the index calls the position).
        var rlp: Range<Int>
        /// Arrival time, Unix seconds; 0 = unknown.
        var arrival: UInt32
    }

    /// The raw payload.
    let payload: [UInt8]

    init(_ payload: [UInt8]) { self.payload = payload }

    func makeIterator() -> Iterator { Iterator(payload: payload) }

    /// Walks the records from the start of the payload.
    struct Iterator: IteratorProtocol {
        let payload: [UInt8]
        /// Where the next record's header starts.
        private(set) var position = 0

        init(payload: [UInt8]) { self.payload = payload }

        mutating func next() -> Record? {
            guard payload.count - position >= SegmentFormat.recordHeaderLength else { return nil }
            let length = Int(payload.u32LE(position))
            let start = position + SegmentFormat.recordHeaderLength
            guard length <= payload.count - start else { return nil }
            let record = Record(rlp: start..<(start + length), arrival: payload.u32LE(position + 4))
            position = start + length
            return record
        }

        /// True once every byte of the payload was walked.
        var atEnd: Bool { position == payload.count }
    }

    /// The number of records when they fill `payload` exactly, else nil.
    static func count(in payload: [UInt8]) -> Int? {
        var walk = Iterator(payload: payload)
        var n = 0
        while walk.next() != nil { n += 1 }
        return walk.atEnd ? n : nil
    }

    /// The arrival time of the record whose RLP starts at `rlpStart` (a position from a walk of this payload).
    static func arrival(in payload: [UInt8], rlpStart: Int) -> UInt32 {
        payload.u32LE(rlpStart - SegmentFormat.recordHeaderLength + 4)
    }
}
