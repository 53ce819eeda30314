/// Constants and little-endian helpers of the on-disk layout (docs/FORMAT.md, format version 1).
enum SegmentFormat {
    /// The archive format version written by this code.
    static let version: UInt32 = 1
    /// Record header length: RLP length (u32) and arrival time (u32).
    static let recordHeaderLength = 8
    /// Codec byte: payload stored as is.
    static let codecRaw: UInt8 = 0
    /// Codec byte: payload compressed with the LZ4 block format.
    static let codecLZ4: UInt8 = 1
    /// The largest raw block payload accepted when reading (64 MiB).
    static let maxBlockPayload = 64 << 20

    /// Suffix of a compaction output before it is renamed into place (never read as a segment).
    static let compactionSuffix = ".seg.compact"

    static func segmentFileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    /// The first sequence number a segment file name carries, or nil for any other name. Sequence numbers are
    /// at most `Int64.max` (the index stores them as SQLite integers), so a larger number names no segment.
    static func parseSegmentFileName(_ name: String) -> UInt64? {
        guard name.hasSuffix(".seg"), name.utf8.count == 24, let n = UInt64(name.prefix(20)), n <= maxSequence else { return nil }
        return n
    }

    /// The largest sequence number (the index stores sequence numbers as SQLite integers).
    static let maxSequence = UInt64(Int64.max)

    /// The encoded header of a new segment (``SegmentHeader``).
    static func segmentHeader(firstSequence: UInt64, created: UInt32) -> [UInt8] {
        SegmentHeader(firstSequence: firstSequence, created: created).encoded()
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt32) {
        append(UInt8(truncatingIfNeeded: v))
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 24))
    }

    mutating func appendLE(_ v: UInt64) {
        appendLE(UInt32(truncatingIfNeeded: v))
        appendLE(UInt32(truncatingIfNeeded: v >> 32))
    }
}

extension UnsafeRawBufferPointer {
    func u32LE(_ offset: Int) -> UInt32 { loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian }
    func u64LE(_ offset: Int) -> UInt64 { loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian }
}

extension Array where Element == UInt8 {
    func u32LE(_ offset: Int) -> UInt32 { withUnsafeBytes { $0.u32LE(offset) } }
    func u64LE(_ offset: Int) -> UInt64 { withUnsafeBytes { $0.u64LE(offset) } }
}
