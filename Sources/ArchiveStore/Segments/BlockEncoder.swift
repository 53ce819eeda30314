import CLZ4

/// Collects records into one block and encodes it (header, CRC32C, optional LZ4).
///
/// The records stay the callers' arrays until the block is encoded, so building a block copies nothing: the
/// writer thread collects a block and the thread that writes it does the copying and the checksum.
struct BlockEncoder {
    /// The records, in order; the raw payload is `len u32 ‖ arrival u32 ‖ rlp` for each.
    private(set) var records: [(rlp: [UInt8], arrival: UInt32)] = []
    /// Bytes of the raw payload.
    private(set) var rawSize = 0

    init(capacity: Int) { records.reserveCapacity(max(16, capacity / 512)) }

    var isEmpty: Bool { records.isEmpty }
    var count: Int { records.count }

    /// Appends a record; returns the offset of its RLP inside the raw payload.
    mutating func append(rlp: [UInt8], arrival: UInt32) -> Int {
        records.append((rlp, arrival))
        let pos = rawSize + SegmentFormat.recordHeaderLength
        rawSize = pos + rlp.count
        return pos
    }

    mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        rawSize = 0
    }

    /// Writes the raw payload into `buffer` (emptied first, its capacity kept).
    func writePayload(into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(rawSize)
        for (rlp, arrival) in records {
            buffer.appendLE(UInt32(rlp.count))
            buffer.appendLE(arrival)
            buffer.append(contentsOf: rlp)
        }
    }

    /// The whole block: header followed by the stored payload (LZ4 only if it saves at least 1/16).
    func encode(firstSequence: UInt64, allowCompression: Bool = true) -> [UInt8] {
        var buffer: [UInt8] = []
        let parts = encodeParts(firstSequence: firstSequence, compress: allowCompression && worthCompressing(), buffer: &buffer)
        return parts.header + parts.body
    }

    /// True when the block is worth an LZ4 attempt: at least 256 bytes, and its first 16 KiB compress (tested
    /// without building the payload).
    func worthCompressing() -> Bool {
        guard rawSize >= 256 else { return false }
        var sample: [UInt8] = []
        sample.reserveCapacity(16 << 10 + 8)
        for (rlp, arrival) in records where sample.count < 16 << 10 {
            sample.appendLE(UInt32(rlp.count))
            sample.appendLE(arrival)
            sample.append(contentsOf: rlp.prefix(max(0, 16 << 10 - sample.count)))
        }
        return BlockEncoder.looksCompressible(sample)
    }

    /// The block as its 32-byte header and its stored payload, built in `buffer` (the payload is `buffer` itself
    /// when not compressed); write them back to back. With `compress` (see ``worthCompressing()``), LZ4 is kept
    /// if it saves at least 1/16.
    func encodeParts(firstSequence: UInt64, compress: Bool, buffer: inout [UInt8]) -> (header: [UInt8], body: [UInt8]) {
        writePayload(into: &buffer)
        let payload = buffer
        var codec = SegmentFormat.codecRaw
        var stored: [UInt8]? = nil
        if compress {
            let capacity = payload.count - payload.count / 16
            var out = [UInt8](repeating: 0, count: capacity)
            let n = payload.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    LZ4_compress_default(
                        src.baseAddress!.assumingMemoryBound(to: CChar.self),
                        dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                        Int32(src.count),
                        Int32(capacity)
                    )
                }
            }
            if n > 0 {
                out.removeSubrange(Int(n)...)
                stored = out
                codec = SegmentFormat.codecLZ4
            }
        }
        let body = stored ?? payload
        let header = body.withUnsafeBytes { p in
            BlockHeader(rawLength: payload.count, firstSequence: firstSequence, recordCount: count, codec: codec, payload: p)
        }
        return (header.encoded(), body)
    }

    /// Compresses a 16 KiB sample first, so ciphertext blocks cost almost nothing.
    static func looksCompressible(_ payload: [UInt8]) -> Bool {
        let n = min(payload.count, 16 << 10)
        let capacity = n - n / 16
        var out = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(n))))
        let r = payload.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                LZ4_compress_default(
                    src.baseAddress!.assumingMemoryBound(to: CChar.self),
                    dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(n),
                    Int32(capacity)
                )
            }
        }
        return r > 0
    }
}
