import CLZ4

/// Reads and checks blocks from a segment file.
enum BlockReader {
    /// The outcome of reading at one offset.
    enum Outcome {
        /// A valid block and its raw payload.
        case block(BlockInfo, [UInt8])
        /// Exactly at the end of the file.
        case end
        /// Bytes that are not a valid block (torn write or corruption).
        case invalid(String)
    }

    static func read(_ file: SegmentFile, segment: UInt64, at offset: Int64, fileSize: Int64) -> Outcome {
        if offset == fileSize { return .end }
        let h = SegmentFormat.blockHeaderLength
        guard fileSize - offset >= Int64(h) else { return .invalid("\(fileSize - offset) bytes left, shorter than a block header") }
        var header = [UInt8](repeating: 0, count: h)
        guard (try? file.read(into: &header, at: offset)) == h else { return .invalid("cannot read block header") }
        guard Array(header[0..<4]) == SegmentFormat.blockMagic else { return .invalid("bad block magic") }
        let crc = header.u32LE(4)
        let storedLength = Int(header.u32LE(8))
        let rawLength = Int(header.u32LE(12))
        let firstSequence = header.u64LE(16)
        let count = Int(header.u32LE(24))
        let codec = header[28]
        guard storedLength <= SegmentFormat.maxBlockPayload, rawLength <= SegmentFormat.maxBlockPayload else {
            return .invalid("block length \(storedLength)/\(rawLength) exceeds the limit")
        }
        guard Int64(storedLength) <= fileSize - offset - Int64(h) else {
            return .invalid("block of \(storedLength) bytes runs past the end of the file (torn write)")
        }
        var stored = [UInt8](repeating: 0, count: storedLength)
        guard (try? file.read(into: &stored, at: offset + Int64(h))) == storedLength else { return .invalid("cannot read block payload") }
        var c = header.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[8...])) }
        c = stored.withUnsafeBytes { CRC32C.update(c, $0) }
        guard c == crc else { return .invalid("CRC32C mismatch (stored \(String(crc, radix: 16)), computed \(String(c, radix: 16)))") }
        let raw: [UInt8]
        switch codec {
        case SegmentFormat.codecRaw:
            guard rawLength == storedLength else { return .invalid("raw block with different raw and stored lengths") }
            raw = stored
        case SegmentFormat.codecLZ4:
            guard let r = decompress(stored, rawLength: rawLength) else { return .invalid("LZ4 payload does not decompress") }
            raw = r
        default:
            return .invalid("unknown codec \(codec)")
        }
        guard validateRecords(raw, count: count) else { return .invalid("records do not fill the payload exactly") }
        let info = BlockInfo(segment: segment, offset: offset, length: h + storedLength, firstSequence: firstSequence,
                             recordCount: count, rawLength: rawLength, compressed: codec == SegmentFormat.codecLZ4)
        return .block(info, raw)
    }

    static func decompress(_ stored: [UInt8], rawLength: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: rawLength)
        let n = stored.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                LZ4_decompress_safe(src.baseAddress?.assumingMemoryBound(to: CChar.self),
                                    dst.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(src.count), Int32(rawLength))
            }
        }
        return Int(n) == rawLength ? out : nil
    }

    static func validateRecords(_ raw: [UInt8], count: Int) -> Bool {
        var pos = 0, n = 0
        while pos < raw.count {
            guard raw.count - pos >= SegmentFormat.recordHeaderLength else { return false }
            let len = Int(raw.u32LE(pos))
            pos += SegmentFormat.recordHeaderLength
            guard len <= raw.count - pos else { return false }
            pos += len
            n += 1
        }
        return n == count
    }

    /// Calls `body(rlpRange, arrival, index)` for each record of a validated raw payload.
    static func forEachRecord(_ raw: [UInt8], _ body: (Range<Int>, UInt32, Int) throws -> Void) rethrows {
        var pos = 0, i = 0
        while pos < raw.count {
            let len = Int(raw.u32LE(pos))
            let arrival = raw.u32LE(pos + 4)
            pos += SegmentFormat.recordHeaderLength
            try body(pos..<(pos + len), arrival, i)
            pos += len
            i += 1
        }
    }
}
