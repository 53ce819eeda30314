import RLP

/// Strict RLP decoding of one value (`RLPValue(decoding:)`) and a walk with `RLPReader`.
public enum RLPFuzz {
    /// One input: whatever decodes strictly must re-encode to the same bytes.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        if let value = try? RLPValue(decoding: bytes) {
            precondition(value.encoded == bytes, "strict RLP decoding accepted a non-canonical encoding")
        }
        var reader = RLPReader(bytes)
        walk(&reader, depth: 0)
    }

    /// Reads every item, descending into lists, with each typed reader the decoders use.
    static func walk(_ reader: inout RLPReader, depth: Int) {
        while !reader.isAtEnd {
            guard let header = try? reader.peekHeader() else { return }
            if header.isList {
                guard var inner = try? reader.readList() else { return }
                _ = try? inner.remainingCount()
                if depth < 64 { walk(&inner, depth: depth + 1) }
            } else {
                var probe = reader
                _ = try? probe.readUInt64()
                probe = reader
                _ = try? probe.readUInt32()
                probe = reader
                _ = try? probe.readBool()
                probe = reader
                _ = try? probe.readUIntBytes()
                probe = reader
                _ = try? probe.readBytes(count: 32)
                guard (try? reader.readBytes()) != nil else { return }
            }
        }
        _ = try? reader.finish()
    }
}
