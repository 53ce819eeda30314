/// The 32-byte header of a block, field for field as the table "Block (32-byte header + payload)" of
/// docs/FORMAT.md lays it out:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `WBLK` |
/// | 4 | 4 | CRC32C of bytes 8..31 of this header followed by the stored payload |
/// | 8 | 4 | stored payload length S |
/// | 12 | 4 | raw payload length R |
/// | 16 | 8 | sequence number of the block's first record |
/// | 24 | 4 | record count N |
/// | 28 | 1 | codec: 0 = raw (S = R), 1 = LZ4 block format |
/// | 29 | 3 | zero |
///
/// Only this type and ``BlockEncoder`` know where a field lies. Every number parsed is untrusted: see
/// ``init(parsing:)``, ``checkCRC(payload:)`` and ``checkCodec()``.
struct BlockHeader: Hashable, Sendable {
    /// Bytes in a block header; the stored payload follows.
    static let length = 32
    /// The magic at offset 0: `WBLK`.
    static let magic: [UInt8] = Array("WBLK".utf8)

    /// CRC32C of bytes 8..31 of this header followed by the stored payload (offset 4).
    var crc: UInt32
    /// Stored payload length S (offset 8).
    var storedLength: Int
    /// Raw payload length R (offset 12).
    var rawLength: Int
    /// Sequence number of the block's first record (offset 16).
    var firstSequence: UInt64
    /// Record count N (offset 24).
    var recordCount: Int
    /// Codec (offset 28): ``SegmentFormat/codecRaw`` or ``SegmentFormat/codecLZ4``; any other value is refused by
    /// ``checkCodec()``.
    var codec: UInt8
    /// The three bytes at offset 29, as a little-endian number; zero as written, not checked when read (the CRC32C
    /// covers them).
    var zero: UInt32 = 0

    /// True when the payload is LZ4-compressed.
    var compressed: Bool { codec == SegmentFormat.codecLZ4 }
    /// Header plus stored payload, in bytes.
    var blockLength: Int { Self.length + storedLength }

    /// A header for `payload` (the stored bytes), with its CRC32C.
    init(rawLength: Int, firstSequence: UInt64, recordCount: Int, codec: UInt8, payload: UnsafeRawBufferPointer) {
        crc = 0
        storedLength = payload.count
        self.rawLength = rawLength
        self.firstSequence = firstSequence
        self.recordCount = recordCount
        self.codec = codec
        crc = computeCRC(payload: payload)
    }

    /// Parses a header. Checks the magic, that the sequence numbers of its records do not pass
    /// ``SegmentFormat/maxSequence``, and that neither length exceeds ``SegmentFormat/maxBlockPayload``.
    /// - Throws: ``BlockDamage`` naming the first check that failed; also when fewer than 32 bytes are given.
    init(parsing bytes: UnsafeRawBufferPointer) throws(BlockDamage) {
        guard bytes.count >= Self.length else { throw BlockDamage("\(bytes.count) bytes left, shorter than a block header") }
        guard bytes.prefix(4).elementsEqual(Self.magic) else { throw BlockDamage("bad block magic") }
        self.init(fields: bytes)
        guard firstSequence <= SegmentFormat.maxSequence - UInt64(recordCount) else {
            throw BlockDamage("block sequence \(firstSequence) + \(recordCount) records is out of range")
        }
        guard storedLength <= SegmentFormat.maxBlockPayload, rawLength <= SegmentFormat.maxBlockPayload else {
            throw BlockDamage("block length \(storedLength)/\(rawLength) exceeds the limit")
        }
    }

    /// Parses a header from the first 32 bytes of `bytes`; see ``init(parsing:)-(UnsafeRawBufferPointer)``.
    init(parsing bytes: [UInt8]) throws(BlockDamage) {
        let parsed = bytes.withUnsafeBytes { p in Result { () throws(BlockDamage) in try BlockHeader(parsing: p) } }
        self = try parsed.get()
    }

    /// The fields of a header this process wrote or already parsed (no checks; at least 32 bytes).
    init(trusted bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { BlockHeader(fields: $0) }
    }

    private init(fields b: UnsafeRawBufferPointer) {
        crc = b.u32LE(4)
        storedLength = Int(b.u32LE(8))
        rawLength = Int(b.u32LE(12))
        firstSequence = b.u64LE(16)
        recordCount = Int(b.u32LE(24))
        codec = b[28]
        zero = UInt32(b[29]) | UInt32(b[30]) << 8 | UInt32(b[31]) << 16
    }

    /// The 32 bytes, with ``crc`` as it is.
    func encoded() -> [UInt8] {
        var h = Self.magic
        h.reserveCapacity(Self.length)
        h.appendLE(crc)
        h.appendLE(UInt32(truncatingIfNeeded: storedLength))
        h.appendLE(UInt32(truncatingIfNeeded: rawLength))
        h.appendLE(firstSequence)
        h.appendLE(UInt32(truncatingIfNeeded: recordCount))
        h.append(codec)
        h.append(UInt8(truncatingIfNeeded: zero))
        h.append(UInt8(truncatingIfNeeded: zero >> 8))
        h.append(UInt8(truncatingIfNeeded: zero >> 16))
        return h
    }

    /// The CRC32C this header and `payload` should carry: bytes 8..31 of the header, then the payload.
    func computeCRC(payload: UnsafeRawBufferPointer) -> UInt32 {
        let fields = encoded().withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[8...])) }
        return CRC32C.update(fields, payload)
    }

    /// Checks ``crc`` against the stored payload.
    func checkCRC(payload: UnsafeRawBufferPointer) throws(BlockDamage) {
        try checkCRC(computed: computeCRC(payload: payload))
    }

    /// Checks ``crc`` against the stored payload.
    func checkCRC(payload: [UInt8]) throws(BlockDamage) {
        try checkCRC(computed: payload.withUnsafeBytes { computeCRC(payload: $0) })
    }

    private func checkCRC(computed: UInt32) throws(BlockDamage) {
        guard computed == crc else {
            throw BlockDamage("CRC32C mismatch (stored \(String(crc, radix: 16)), computed \(String(computed, radix: 16)))")
        }
    }

    /// Checks the codec and what it implies for the lengths: S = R for a raw block; for LZ4 at most 255 raw bytes
    /// per stored byte (plus a few), so that a larger claim is refused before anything is allocated for it.
    func checkCodec() throws(BlockDamage) {
        switch codec {
        case SegmentFormat.codecRaw:
            guard rawLength == storedLength else { throw BlockDamage("raw block with different raw and stored lengths") }
        case SegmentFormat.codecLZ4:
            guard rawLength <= storedLength * 255 + 16 else { throw BlockDamage("LZ4 block claims \(rawLength) raw bytes from \(storedLength)") }
        default:
            throw BlockDamage("unknown codec \(codec)")
        }
    }

    /// This header with another first sequence number and the CRC32C recomputed over `payload` (the stored bytes).
    func renumbered(firstSequence: UInt64, payload: UnsafeRawBufferPointer) -> BlockHeader {
        var h = self
        h.firstSequence = firstSequence
        h.crc = h.computeCRC(payload: payload)
        return h
    }

    /// Renumbers a whole block held in memory (header and stored payload, as read from a segment this process
    /// checked): its first sequence number becomes `firstSequence`, and its CRC32C is recomputed.
    static func renumber(block bytes: inout [UInt8], firstSequence: UInt64) {
        let header = BlockHeader(trusted: bytes)
        let renumbered = bytes.withUnsafeBytes { b in
            header.renumbered(firstSequence: firstSequence, payload: UnsafeRawBufferPointer(rebasing: b[length...]))
        }
        bytes.replaceSubrange(0..<length, with: renumbered.encoded())
    }
}
