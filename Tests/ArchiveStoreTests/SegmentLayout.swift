import ArchiveStore

/// Segment and block bytes built by hand from the tables of docs/FORMAT.md (not by the store's encoder), so that
/// the header types and the scanner are checked against the document.
enum SegmentLayout {
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// "Segment header (32 bytes)": magic, format version, header length, first sequence, created, CRC32C of 0..27.
    static func segmentHeader(first: UInt64, created: UInt32 = 1_700_000_000, version: UInt32 = 1) -> [UInt8] {
        var h = Array("WHARCSEG".utf8) + le32(version) + le32(32) + le64(first) + le32(created)
        h += le32(CRC32C.checksum(h))
        return h
    }

    /// "Records": `L u32 ‖ arrival u32 ‖ rlp` for each.
    static func payload(_ records: [(rlp: [UInt8], arrival: UInt32)]) -> [UInt8] {
        records.flatMap { le32(UInt32($0.rlp.count)) + le32($0.arrival) + $0.rlp }
    }

    /// "Block (32-byte header + payload)", raw codec unless told; the CRC32C covers header bytes 8..31 and the payload.
    static func block(
        first: UInt64,
        records: [(rlp: [UInt8], arrival: UInt32)],
        codec: UInt8 = 0,
        rawLength: UInt32? = nil,
        count: UInt32? = nil
    ) -> [UInt8] {
        let stored = payload(records)
        let fields =
            le32(UInt32(stored.count)) + le32(rawLength ?? UInt32(stored.count)) + le64(first)
            + le32(count ?? UInt32(records.count)) + [codec, 0, 0, 0]
        return Array("WBLK".utf8) + le32(CRC32C.checksum(fields + stored)) + fields + stored
    }

    /// Records with distinct bytes (not envelopes: the scanner does not parse them).
    static func records(_ n: Int, size: Int = 40, seed: UInt8 = 0) -> [(rlp: [UInt8], arrival: UInt32)] {
        (0..<n).map { i in ((0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i &* 7 &+ Int(seed)) }, UInt32(1_700_000_000 + i)) }
    }
}
