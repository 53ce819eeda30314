import RLP

extension Envelope {
    /// Decodes a packet payload that carries envelopes: an RLP list of envelopes (code 1, 0x7f batches)
    /// or, as status-go's whisper sends a batch of one, a bare envelope.
    public static func decodeBatch(_ payload: [UInt8]) throws(WhisperError) -> [Envelope] {
        let reader = RLPReader(payload)
        let header: RLPReader.Header
        do { header = try reader.peekHeader() } catch {
            throw WhisperError(.invalidPacket, "not an RLP item: \(error)", offset: error.offset)
        }
        guard header.isList else { throw WhisperError(.invalidPacket, "expected a list of envelopes, found a string") }
        if header.payload.isEmpty { return [] }
        let probe = RLPReader(payload, range: header.payload)
        if let first = try? probe.peekHeader(), !first.isList {
            return [try Envelope(rlp: payload)]
        }
        var list = RLPReader(payload, range: header.payload)
        guard header.itemEnd == payload.count else {
            throw WhisperError(.invalidPacket, "trailing bytes after the list of envelopes", offset: header.itemEnd)
        }
        var out: [Envelope] = []
        while !list.isAtEnd { out.append(try Envelope(reading: &list)) }
        return out
    }

    /// The RLP list of `envelopes` (a code-1 or 0x7f payload), from their stored bytes.
    public static func encodeList<C: Collection>(_ envelopes: C) -> [UInt8] where C.Element == [UInt8] {
        let length = envelopes.reduce(0) { $0 + $1.count }
        var out = RLPWriter.listHeader(length: length)
        out.reserveCapacity(out.count + length)
        for e in envelopes { out += e }
        return out
    }
}
