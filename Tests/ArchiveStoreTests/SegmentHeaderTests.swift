import Testing

@testable import ArchiveStore

@Suite("Segment and block headers")
struct SegmentHeaderTests {
    typealias L = SegmentLayout

    // MARK: SegmentHeader

    @Test func segmentHeaderMatchesTheDocumentedBytes() throws {
        let bytes = L.segmentHeader(first: 4097, created: 1_700_000_001)
        #expect(SegmentHeader(firstSequence: 4097, created: 1_700_000_001).encoded() == bytes)
        let parsed = try SegmentHeader(parsing: bytes, fileFirstSequence: 4097)
        #expect(parsed.formatVersion == 1)
        #expect(parsed.headerLength == 32)
        #expect(parsed.firstSequence == 4097)
        #expect(parsed.created == 1_700_000_001)
        #expect(parsed.encoded() == bytes)
    }

    @Test func segmentHeaderRejectsAShortHeaderOrABadMagic() {
        let good = L.segmentHeader(first: 1, created: 77)
        #expect(throws: SegmentHeader.Rejection.incomplete(created: nil)) { try SegmentHeader(parsing: Array(good[0..<31]), fileFirstSequence: 1) }
        var badMagic = good
        badMagic[0] ^= 1
        // 32 bytes were there: the created field is kept for the header a writer writes again.
        #expect(throws: SegmentHeader.Rejection.incomplete(created: 77)) { try SegmentHeader(parsing: badMagic, fileFirstSequence: 1) }
    }

    @Test func segmentHeaderRejectsAnotherFileNameOrABadCRC() {
        let good = L.segmentHeader(first: 1)
        #expect(throws: SegmentHeader.Rejection.mismatch) { try SegmentHeader(parsing: good, fileFirstSequence: 2) }
        var badCRC = good
        badCRC[24] ^= 1
        #expect(throws: SegmentHeader.Rejection.mismatch) { try SegmentHeader(parsing: badCRC, fileFirstSequence: 1) }
    }

    @Test func segmentHeaderRejectsAnotherVersion() {
        #expect(throws: SegmentHeader.Rejection.unsupportedVersion(2)) {
            try SegmentHeader(parsing: L.segmentHeader(first: 1, version: 2), fileFirstSequence: 1)
        }
        let error = SegmentHeader.Rejection.unsupportedVersion(2).error(path: "/a/seg", segment: 1)
        #expect(error.code == .unsupportedVersion)
        #expect(error.message == "segment format 2 is not supported")
    }

    // MARK: BlockHeader

    @Test func blockHeaderRoundTripsTheDocumentedBytes() throws {
        let records = L.records(3)
        let bytes = L.block(first: 42, records: records)
        let header = try BlockHeader(parsing: bytes)
        #expect(header.storedLength == L.payload(records).count)
        #expect(header.rawLength == header.storedLength)
        #expect(header.firstSequence == 42)
        #expect(header.recordCount == 3)
        #expect(header.codec == 0)
        #expect(!header.compressed)
        #expect(header.blockLength == bytes.count)
        #expect(header.encoded() == Array(bytes[0..<32]))
        try header.checkCRC(payload: Array(bytes[32...]))
        try header.checkCodec()
        let built = L.payload(records).withUnsafeBytes {
            BlockHeader(rawLength: header.rawLength, firstSequence: 42, recordCount: 3, codec: 0, payload: $0)
        }
        #expect(built == header)
    }

    @Test func renumberingRecomputesTheCRC() throws {
        let records = L.records(2)
        var bytes = L.block(first: 10, records: records)
        BlockHeader.renumber(block: &bytes, firstSequence: 500)
        #expect(bytes == L.block(first: 500, records: records))
        let header = try BlockHeader(parsing: bytes)
        #expect(header.firstSequence == 500)
        try header.checkCRC(payload: Array(bytes[32...]))
    }

    @Test func blockHeaderRejectsABadMagicOrAShortHeader() {
        var bytes = L.block(first: 1, records: L.records(1))
        #expect(throws: BlockDamage("20 bytes left, shorter than a block header")) { try BlockHeader(parsing: Array(bytes[0..<20])) }
        bytes[3] = UInt8(ascii: "X")
        #expect(throws: BlockDamage("bad block magic")) { try BlockHeader(parsing: bytes) }
    }

    @Test func blockHeaderRejectsABadCRC() throws {
        var bytes = L.block(first: 1, records: L.records(2))
        bytes[bytes.count - 1] ^= 0xFF
        let header = try BlockHeader(parsing: bytes)
        #expect(throws: BlockDamage.self) { try header.checkCRC(payload: Array(bytes[32...])) }
        var field = L.block(first: 1, records: L.records(2))
        field[24] ^= 1  // the record count is covered too
        #expect(throws: BlockDamage.self) { try BlockHeader(parsing: field).checkCRC(payload: Array(field[32...])) }
    }

    @Test func blockHeaderRejectsABadCodec() throws {
        let unknown = try BlockHeader(parsing: L.block(first: 1, records: L.records(1), codec: 7))
        #expect(throws: BlockDamage("unknown codec 7")) { try unknown.checkCodec() }
        let rawMismatch = try BlockHeader(parsing: L.block(first: 1, records: L.records(1), rawLength: 5))
        #expect(throws: BlockDamage("raw block with different raw and stored lengths")) { try rawMismatch.checkCodec() }
        let lz4 = try BlockHeader(parsing: L.block(first: 1, records: L.records(1), codec: 1, rawLength: 48 * 255 + 17))
        #expect(throws: BlockDamage("LZ4 block claims 12257 raw bytes from 48")) { try lz4.checkCodec() }
    }

    @Test func blockHeaderRejectsLengthsOutOfRange() {
        var bytes = L.block(first: 1, records: L.records(1))
        bytes.replaceSubrange(12..<16, with: L.le32(UInt32(64 << 20) + 1))
        #expect(throws: BlockDamage("block length 48/67108865 exceeds the limit")) { try BlockHeader(parsing: bytes) }
        bytes.replaceSubrange(8..<16, with: L.le32(UInt32.max) + L.le32(48))
        #expect(throws: BlockDamage("block length 4294967295/48 exceeds the limit")) { try BlockHeader(parsing: bytes) }
    }

    @Test func blockHeaderRejectsSequenceOverflow() throws {
        let last = UInt64(Int64.max)
        #expect(throws: BlockDamage("block sequence \(last) + 1 records is out of range")) {
            try BlockHeader(parsing: L.block(first: last, records: L.records(1)))
        }
        #expect(throws: BlockDamage("block sequence \(UInt64.max) + 0 records is out of range")) {
            try BlockHeader(parsing: L.block(first: .max, records: []))
        }
        #expect(try BlockHeader(parsing: L.block(first: last - 1, records: L.records(1))).firstSequence == last - 1)
    }

    // MARK: records

    @Test func recordWalkYieldsEachRecordAndChecksTheFill() {
        let records = L.records(3, size: 5)
        let payload = L.payload(records)
        let walked = Array(BlockRecords(payload))
        #expect(walked.map { Array(payload[$0.rlp]) } == records.map(\.rlp))
        #expect(walked.map(\.arrival) == records.map(\.arrival))
        #expect(BlockRecords.arrival(in: payload, rlpStart: walked[1].rlp.lowerBound) == records[1].arrival)
        #expect(BlockRecords.count(in: payload) == 3)
        #expect(BlockRecords.count(in: []) == 0)
        #expect(BlockRecords.count(in: payload + [0]) == nil)
        #expect(BlockRecords.count(in: Array(payload.dropLast())) == nil)
        // A length that runs past the payload ends the walk instead of reading past it.
        var long = payload
        long.replaceSubrange(0..<4, with: L.le32(1000))
        #expect(Array(BlockRecords(long)).isEmpty)
        #expect(BlockRecords.count(in: long) == nil)
    }
}
