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
        guard firstSequence <= SegmentFormat.maxSequence - UInt64(count) else {
            return .invalid("block sequence \(firstSequence) + \(count) records is out of range")
        }
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
            // LZ4 expands at most 255 times (plus a few bytes): a larger claim is refused before allocating it.
            guard rawLength <= storedLength * 255 + 16 else { return .invalid("LZ4 block claims \(rawLength) raw bytes from \(storedLength)") }
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

    /// Checks the header and CRC32C of the raw (uncompressed) block at `offset` in place, through the file's
    /// mapping, once per open file; a query reads single records out of it afterwards.
    /// - Returns: nil when the block is valid, otherwise why not.
    static func checkRawBlockOnce(_ file: SegmentFile, at offset: Int64) -> String? {
        if file.isVerified(block: offset) { return nil }
        let h = SegmentFormat.blockHeaderLength
        typealias Header = (crc: UInt32, stored: Int, partial: UInt32)
        let parsed = try? file.withMappedBytes(at: offset, count: h) { header -> Header? in
            guard header.prefix(4).elementsEqual(SegmentFormat.blockMagic), header[28] == SegmentFormat.codecRaw else { return nil }
            let stored = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            let raw = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            guard stored == raw, stored <= SegmentFormat.maxBlockPayload else { return nil }
            return (UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 4, as: UInt32.self)), stored,
                    CRC32C.update(0, UnsafeRawBufferPointer(rebasing: header[8...])))
        }
        guard let parsed else { return "block header past the end of the file" }
        guard let header = parsed else { return "the block header is not that of a raw block (magic, codec or lengths)" }
        let computed = try? file.withMappedBytes(at: offset + Int64(h), count: header.stored) { CRC32C.update(header.partial, $0) }
        guard let crc = computed else { return "block runs past the end of the file" }
        guard crc == header.crc else {
            return "CRC32C mismatch (stored \(String(header.crc, radix: 16)), computed \(String(crc, radix: 16)))"
        }
        file.markVerified(block: offset)
        return nil
    }

    /// The offset of the next valid block after damage, or `to` when there is none.
    static func nextValidBlock(_ file: SegmentFile, from: Int64, to: Int64, segment: UInt64) -> Int64 {
        let magic = SegmentFormat.blockMagic
        var pos = from
        let chunk = 1 << 20
        while pos < to {
            var buf = [UInt8](repeating: 0, count: Int(min(Int64(chunk + 3), to - pos)))
            guard let n = try? file.read(into: &buf, at: pos), n >= 4 else { return to }
            var i = 0
            while i + 4 <= n {
                if buf[i] == magic[0] && buf[i + 1] == magic[1] && buf[i + 2] == magic[2] && buf[i + 3] == magic[3] {
                    if case .block = read(file, segment: segment, at: pos + Int64(i), fileSize: to) { return pos + Int64(i) }
                }
                i += 1
            }
            pos += Int64(max(1, n - 3))
            if n < chunk { break }
        }
        return to
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
