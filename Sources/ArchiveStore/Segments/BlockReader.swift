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
        let h = BlockHeader.length
        guard fileSize - offset >= Int64(h) else { return .invalid("\(fileSize - offset) bytes left, shorter than a block header") }
        var bytes = [UInt8](repeating: 0, count: h)
        guard (try? file.read(into: &bytes, at: offset)) == h else { return .invalid("cannot read block header") }
        do throws(BlockDamage) {
            let header = try BlockHeader(parsing: bytes)
            guard Int64(header.storedLength) <= fileSize - offset - Int64(h) else {
                throw BlockDamage("block of \(header.storedLength) bytes runs past the end of the file (torn write)")
            }
            var stored = [UInt8](repeating: 0, count: header.storedLength)
            guard (try? file.read(into: &stored, at: offset + Int64(h))) == header.storedLength else {
                throw BlockDamage("cannot read block payload")
            }
            try header.checkCRC(payload: stored)
            try header.checkCodec()
            var raw = stored
            if header.compressed {
                guard let r = decompress(stored, rawLength: header.rawLength) else { throw BlockDamage("LZ4 payload does not decompress") }
                raw = r
            }
            guard BlockRecords.count(in: raw) == header.recordCount else { throw BlockDamage("records do not fill the payload exactly") }
            return .block(BlockInfo(header, segment: segment, offset: offset), raw)
        } catch {
            return .invalid(error.reason)
        }
    }

    /// Checks the raw (uncompressed) block at `offset` in place, through the file's mapping, once per open file:
    /// its header, and its CRC32C over the stored payload. A query reads single records out of it afterwards.
    /// - Returns: nil when the block is valid, otherwise why not.
    static func checkRawBlockOnce(_ file: SegmentFile, at offset: Int64) -> String? {
        if file.isVerified(block: offset) { return nil }
        let parsed = try? file.withMappedBytes(at: offset, count: BlockHeader.length) { bytes -> BlockHeader? in
            guard let header = try? BlockHeader(parsing: bytes), !header.compressed, (try? header.checkCodec()) != nil else { return nil }
            return header
        }
        guard let parsed else { return "block header past the end of the file" }
        guard let header = parsed else { return "the block header is not that of a raw block (magic, codec or lengths)" }
        let checked = try? file.withMappedBytes(at: offset + Int64(BlockHeader.length), count: header.storedLength) { payload in
            Result { () throws(BlockDamage) in try header.checkCRC(payload: payload) }
        }
        guard let checked else { return "block runs past the end of the file" }
        if case .failure(let damage) = checked { return damage.reason }
        file.markVerified(block: offset)
        return nil
    }

    /// Checks the block at `offset` without decoding it: its header, that it ends by `end`, and for a raw block its
    /// CRC32C (``checkRawBlockOnce(_:at:)``); an LZ4 block's payload is not read.
    static func checkInPlace(_ file: SegmentFile, segment: UInt64, at offset: Int64, end: Int64) -> Result<BlockInfo, BlockDamage> {
        let h = Int64(BlockHeader.length)
        guard end - offset >= h else { return .failure(BlockDamage("\(end - offset) bytes left, shorter than a block header")) }
        let mapped = try? file.withMappedBytes(at: offset, count: BlockHeader.length) { bytes in
            Result { () throws(BlockDamage) in try BlockHeader(parsing: bytes) }
        }
        guard let mapped else { return .failure(BlockDamage("cannot read block header")) }
        let header: BlockHeader
        switch mapped {
        case .success(let parsed): header = parsed
        case .failure(let damage): return .failure(damage)
        }
        guard Int64(header.storedLength) <= end - offset - h else {
            return .failure(BlockDamage("block of \(header.storedLength) bytes runs past the end of the file (torn write)"))
        }
        if !header.compressed, let why = checkRawBlockOnce(file, at: offset) { return .failure(BlockDamage(why)) }
        return .success(BlockInfo(header, segment: segment, offset: offset))
    }

    static func decompress(_ stored: [UInt8], rawLength: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: rawLength)
        let n = stored.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                LZ4_decompress_safe(
                    src.baseAddress?.assumingMemoryBound(to: CChar.self),
                    dst.baseAddress?.assumingMemoryBound(to: CChar.self),
                    Int32(src.count),
                    Int32(rawLength)
                )
            }
        }
        return Int(n) == rawLength ? out : nil
    }
}
