import RLP

/// A mailserver history request (whisper §5.2), in any of the encodings clients use.
public struct MailRequest: Sendable, Equatable {
    /// The encoding a request arrived in; answers go out in the same dialect.
    public enum Dialect: String, Sendable, CaseIterable {
        /// status-go 2020+: `[Lower, Upper, Bloom, Topics, Limit, Cursor, Batch]`.
        case rlp7
        /// status-go 2018–2020: `[Lower, Upper, Bloom, Limit, Cursor, Batch]`.
        case rlp6
        /// Status specs 4/11: `[Lower, Upper, Bloom, Limit, Cursor]`.
        case rlp5
        /// 8/WAKU-MAIL: `[Lower, Upper, Bloom, Limit, Cursor, Topics]`.
        case topicsLast
        /// go-ethereum's fixed binary layout (8, 72, 76 or 116 bytes).
        case legacy
        /// A bare whisper `MessagesRequest` `[ID, From, To, Limit, Cursor, Bloom]` sent as the 0x7e argument.
        case directWhisper
        /// A bare waku `MessagesRequest` `[ID, From, To, Limit, Cursor, Bloom, Topics]`.
        case directWaku
    }

    /// Lower bound on sent time (inclusive, UNIX seconds).
    public var lower: UInt32
    /// Upper bound on sent time (inclusive; 0 means "now + 60 s" for RLP requests).
    public var upper: UInt32
    /// The bloom bytes as sent (usually 64; status-go's own test sends 1).
    public var bloom: [UInt8]
    /// Topics, when the dialect carries them (nil when it has no topics item).
    public var topics: [Topic]?
    /// The page size asked for (0 = server default).
    public var limit: UInt32
    /// The cursor bytes as sent (empty = from the start).
    public var cursor: [UInt8]
    /// Whether the client wants 0x7f batches (lists) rather than one envelope per packet.
    public var batch: Bool
    /// The encoding it came in.
    public var dialect: Dialect
    /// The request ID carried by a direct `MessagesRequest` (nil for envelope-wrapped requests, whose ID is the envelope hash).
    public var id: [UInt8]?

    public init(
        lower: UInt32,
        upper: UInt32,
        bloom: [UInt8] = Bloom.full.bytes,
        topics: [Topic]? = nil,
        limit: UInt32 = 0,
        cursor: [UInt8] = [],
        batch: Bool = true,
        dialect: Dialect = .rlp7,
        id: [UInt8]? = nil
    ) {
        self.lower = lower
        self.upper = upper
        self.bloom = bloom
        self.topics = topics
        self.limit = limit
        self.cursor = cursor
        self.batch = batch
        self.dialect = dialect
        self.id = id
    }

    /// The 32-byte request ID of a direct request (`BytesToHash(ID)`: left-padded, or cropped from the left).
    public var directRequestID: [UInt8]? {
        guard let id else { return nil }
        if id.count >= 32 { return Array(id.suffix(32)) }
        return [UInt8](repeating: 0, count: 32 - id.count) + id
    }

    // MARK: Decoding

    /// Decodes the payload of an opened request message: tolerant RLP (any of the RLP dialects) first,
    /// then the legacy binary layout (whisper §5.3 d).
    public static func decodePayload(_ bytes: [UInt8]) throws(WhisperError) -> MailRequest {
        do {
            return try decodeRLP(bytes)
        } catch let rlpError {
            do {
                return try decodeLegacy(bytes)
            } catch {
                throw WhisperError(.invalidRequest, "neither an RLP request (\(rlpError.detail)) nor a legacy binary one (\(error.detail))")
            }
        }
    }

    /// Decodes an RLP request payload in the 7-, 6-, 5-item or topics-last order (whisper §5.2 b).
    public static func decodeRLP(_ bytes: [UInt8]) throws(WhisperError) -> MailRequest {
        do {
            var top = RLPReader(bytes)
            var r = try top.readList()
            try top.finish()
            let count = try r.remainingCount()
            guard (5...7).contains(count) else {
                throw WhisperError(.invalidRequest, "an RLP request has 5 to 7 items, found \(count)")
            }
            let lower = try r.readUInt32()
            let upper = try r.readUInt32()
            let bloom = Array(try r.readBytes())
            if try r.peekHeader().isList {
                guard count == 7 else { throw WhisperError(.invalidRequest, "topics in 4th position need 7 items, found \(count)") }
                let topics = try readTopics(&r)
                let limit = try r.readUInt32()
                let cursor = Array(try r.readBytes())
                let batch = try r.readBool()
                return MailRequest(
                    lower: lower,
                    upper: upper,
                    bloom: bloom,
                    topics: topics,
                    limit: limit,
                    cursor: cursor,
                    batch: batch,
                    dialect: .rlp7
                )
            }
            let limit = try r.readUInt32()
            let cursor = Array(try r.readBytes())
            if r.isAtEnd {
                return MailRequest(
                    lower: lower,
                    upper: upper,
                    bloom: bloom,
                    limit: limit,
                    cursor: cursor,
                    batch: false,
                    dialect: .rlp5
                )
            }
            if try r.peekHeader().isList {
                let topics = try readTopics(&r)
                try r.finish()
                return MailRequest(
                    lower: lower,
                    upper: upper,
                    bloom: bloom,
                    topics: topics,
                    limit: limit,
                    cursor: cursor,
                    batch: false,
                    dialect: .topicsLast
                )
            }
            let batch = try r.readBool()
            try r.finish()
            return MailRequest(
                lower: lower,
                upper: upper,
                bloom: bloom,
                limit: limit,
                cursor: cursor,
                batch: batch,
                dialect: .rlp6
            )
        } catch let error as RLPError {
            throw WhisperError(.invalidRequest, error.description, offset: error.offset)
        } catch let error as WhisperError {
            throw error
        } catch {
            throw WhisperError(.invalidRequest, "\(error)")
        }
    }

    static func readTopics(_ r: inout RLPReader) throws(RLPError) -> [Topic] {
        var list = try r.readList()
        var topics: [Topic] = []
        while !list.isAtEnd { topics.append(Topic(bytes: try list.readBytes())) }
        return topics
    }

    /// Decodes the legacy binary layout: lower(4) ‖ upper(4) ‖ [bloom(64) ‖ [limit(4) ‖ [cursor]]], big-endian.
    public static func decodeLegacy(_ bytes: [UInt8]) throws(WhisperError) -> MailRequest {
        guard bytes.count >= 8 else {
            throw WhisperError(.invalidRequest, "undersized p2p request: \(bytes.count) bytes (at least 8)")
        }
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        var request = MailRequest(lower: u32(0), upper: u32(4), batch: false, dialect: .legacy)
        if bytes.count == 8 { return request }
        guard bytes.count >= 72 else {
            throw WhisperError(.invalidRequest, "undersized bloom filter: \(bytes.count) bytes (8, or at least 72)")
        }
        request.bloom = Array(bytes[8..<72])
        if bytes.count >= 76 { request.limit = u32(72) }
        if bytes.count > 76 { request.cursor = Array(bytes[76...]) }
        return request
    }

    /// Decodes a direct (not envelope-wrapped) `MessagesRequest` 0x7e payload, whisper (6 items) or waku (7 items).
    public static func decodeDirect(_ bytes: [UInt8]) throws(WhisperError) -> MailRequest {
        do {
            var top = RLPReader(bytes)
            var r = try top.readList()
            try top.finish()
            let count = try r.remainingCount()
            guard count == 6 || count == 7 else {
                throw WhisperError(.invalidRequest, "a MessagesRequest has 6 (whisper) or 7 (waku) items, found \(count)")
            }
            let id = Array(try r.readBytes())
            let from = try r.readUInt32()
            let to = try r.readUInt32()
            let limit = try r.readUInt32()
            let cursor = Array(try r.readBytes())
            let bloom = Array(try r.readBytes())
            var topics: [Topic]?
            if count == 7 { topics = try readTopics(&r) }
            return MailRequest(
                lower: from,
                upper: to,
                bloom: bloom,
                topics: topics,
                limit: limit,
                cursor: cursor,
                batch: true,
                dialect: count == 7 ? .directWaku : .directWhisper,
                id: id
            )
        } catch let error as RLPError {
            throw WhisperError(.invalidRequest, error.description, offset: error.offset)
        } catch let error as WhisperError {
            throw error
        } catch {
            throw WhisperError(.invalidRequest, "\(error)")
        }
    }

    // MARK: Encoding

    /// Encodes the request in `dialect` (the payload of a request message, or the whole 0x7e payload for direct dialects).
    public func encoded(as dialect: Dialect? = nil) -> [UInt8] {
        let d = dialect ?? self.dialect
        var w = RLPWriter(reservingCapacity: 160)
        func writeTopics(_ w: inout RLPWriter) {
            w.list { w in for t in topics ?? [] { w.append(bytes: t.bytes) } }
        }
        switch d {
        case .rlp7:
            w.list { w in
                w.append(uint: UInt64(lower))
                w.append(uint: UInt64(upper))
                w.append(bytes: bloom)
                writeTopics(&w)
                w.append(uint: UInt64(limit))
                w.append(bytes: cursor)
                w.append(bool: batch)
            }
        case .rlp6:
            w.list { w in
                w.append(uint: UInt64(lower))
                w.append(uint: UInt64(upper))
                w.append(bytes: bloom)
                w.append(uint: UInt64(limit))
                w.append(bytes: cursor)
                w.append(bool: batch)
            }
        case .rlp5:
            w.list { w in
                w.append(uint: UInt64(lower))
                w.append(uint: UInt64(upper))
                w.append(bytes: bloom)
                w.append(uint: UInt64(limit))
                w.append(bytes: cursor)
            }
        case .topicsLast:
            w.list { w in
                w.append(uint: UInt64(lower))
                w.append(uint: UInt64(upper))
                w.append(bytes: bloom)
                w.append(uint: UInt64(limit))
                w.append(bytes: cursor)
                writeTopics(&w)
            }
        case .legacy:
            // The shortest layout that carries every field: 8, 72, 76, or 76 + cursor bytes.
            var out: [UInt8] = []
            func u32(_ v: UInt32) {
                out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
            }
            u32(lower)
            u32(upper)
            let fullBloom = bloom.count != 64 || bloom == Bloom.full.bytes
            if fullBloom && limit == 0 && cursor.isEmpty { return out }
            out += bloom.count == 64 ? bloom : Bloom.full.bytes
            if limit == 0 && cursor.isEmpty { return out }
            u32(limit)
            out += cursor
            return out
        case .directWhisper, .directWaku:
            w.list { w in
                w.append(bytes: id ?? [])
                w.append(uint: UInt64(lower))
                w.append(uint: UInt64(upper))
                w.append(uint: UInt64(limit))
                w.append(bytes: cursor)
                w.append(bytes: bloom)
                if d == .directWaku { writeTopics(&w) }
            }
        }
        return w.bytes
    }
}
