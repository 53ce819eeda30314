import CLZ4

/// Collects records into one block and encodes it (header, CRC32C, optional LZ4).
struct BlockEncoder {
    /// Raw payload: records `len u32 ‖ arrival u32 ‖ rlp`.
    private(set) var payload: [UInt8] = []
    private(set) var count = 0

    init(capacity: Int) { payload.reserveCapacity(capacity) }

    var isEmpty: Bool { count == 0 }
    var rawSize: Int { payload.count }

    /// Appends a record; returns the offset of its RLP inside the raw payload.
    mutating func append(rlp: [UInt8], arrival: UInt32) -> Int {
        payload.appendLE(UInt32(rlp.count))
        payload.appendLE(arrival)
        let pos = payload.count
        payload.append(contentsOf: rlp)
        count += 1
        return pos
    }

    mutating func removeAll() {
        payload.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Starts the next block in `buffer` (emptied, its capacity kept), when the encoded payload of the last block
    /// still lives on elsewhere, such as in a write queue.
    mutating func removeAll(reusing buffer: [UInt8]) {
        payload = buffer
        payload.removeAll(keepingCapacity: true)
        count = 0
    }

    /// The whole block: header followed by the stored payload (LZ4 only if it saves at least 1/16).
    func encode(firstSequence: UInt64, allowCompression: Bool = true) -> [UInt8] {
        let parts = encodeParts(firstSequence: firstSequence, allowCompression: allowCompression)
        return parts.header + parts.body
    }

    /// The block as its 32-byte header and its stored payload (the raw payload itself when not compressed, so
    /// nothing is copied); write them back to back.
    func encodeParts(firstSequence: UInt64, allowCompression: Bool = true) -> (header: [UInt8], body: [UInt8]) {
        var codec = SegmentFormat.codecRaw
        var stored: [UInt8]? = nil
        if allowCompression, payload.count >= 256, BlockEncoder.looksCompressible(payload) {
            let capacity = payload.count - payload.count / 16
            var out = [UInt8](repeating: 0, count: capacity)
            let n = payload.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         Int32(src.count), Int32(capacity))
                }
            }
            if n > 0 {
                out.removeSubrange(Int(n)...)
                stored = out
                codec = SegmentFormat.codecLZ4
            }
        }
        let body = stored ?? payload
        var header = SegmentFormat.blockMagic
        header.reserveCapacity(SegmentFormat.blockHeaderLength)
        header.appendLE(UInt32(0))  // CRC, filled below
        header.appendLE(UInt32(body.count))
        header.appendLE(UInt32(payload.count))
        header.appendLE(firstSequence)
        header.appendLE(UInt32(count))
        header.append(codec); header.append(0); header.append(0); header.append(0)
        var crc = header.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[8...])) }
        crc = body.withUnsafeBytes { CRC32C.update(crc, $0) }
        header[4] = UInt8(truncatingIfNeeded: crc); header[5] = UInt8(truncatingIfNeeded: crc >> 8)
        header[6] = UInt8(truncatingIfNeeded: crc >> 16); header[7] = UInt8(truncatingIfNeeded: crc >> 24)
        return (header, body)
    }

    /// Compresses a 16 KiB sample first, so ciphertext blocks cost almost nothing.
    static func looksCompressible(_ payload: [UInt8]) -> Bool {
        let n = min(payload.count, 16 << 10)
        let capacity = n - n / 16
        var out = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(n))))
        let r = payload.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(n), Int32(capacity))
            }
        }
        return r > 0
    }
}
