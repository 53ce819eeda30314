import RLP

extension WhisperStatus {
    /// Decodes a shh/6 code-2 "PoW requirement" payload: one RLP uint64, the bits of a float64
    /// (whisper-mailserver §4.2). Bytes after it are ignored.
    public static func powRequirement(payload: [UInt8]) throws(WhisperError) -> Double {
        var r = RLPReader(payload)
        let bits: UInt64
        do { bits = try r.readUInt64() } catch {
            throw WhisperError(.invalidPacket, "PoW requirement: \(error)", offset: error.offset)
        }
        return try decodePoW(bits)
    }

    /// Decodes a shh/6 code-3 "bloom filter exchange" payload: one RLP string of exactly 64 bytes
    /// (whisper-mailserver §4.2). Bytes after it are ignored.
    public static func bloomFilter(payload: [UInt8]) throws(WhisperError) -> Bloom {
        var r = RLPReader(payload)
        let bytes: ArraySlice<UInt8>
        do { bytes = try r.readBytes() } catch {
            throw WhisperError(.invalidPacket, "bloom filter: \(error)", offset: error.offset)
        }
        return try Bloom(bytes: bytes)
    }
}
