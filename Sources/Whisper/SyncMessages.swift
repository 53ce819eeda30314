import RLP

/// status-go's mailserver-to-mailserver sync over shh/6 (whisper §5.9): code 123 asks for a page of history, code
/// 124 carries it back in bundles and then a final response with the cursor of the next page.
public enum SyncCode {
    /// `SyncMailRequest`.
    public static let request: UInt64 = 123
    /// `RawSyncResponse`.
    public static let response: UInt64 = 124
}

/// Code 123: `[Lower, Upper, Bloom, Limit, Cursor]` (Go's `SyncMailRequest`; integers uint32, bloom and cursor bytes).
public struct SyncRequest: Sendable, Equatable {
    public var lower: UInt32
    public var upper: UInt32
    /// The bloom filter of the topics wanted (64 bytes; all ones for every topic).
    public var bloom: [UInt8]
    /// Envelopes per page, 1…``maxLimit``.
    public var limit: UInt32
    /// Empty for the first page; else the cursor of the previous final response.
    public var cursor: [UInt8]

    /// status-go's `MaxLimitInSyncMailRequest`.
    public static let maxLimit: UInt32 = 1000

    public init(lower: UInt32, upper: UInt32, bloom: [UInt8] = Bloom.full.bytes, limit: UInt32, cursor: [UInt8] = []) {
        self.lower = lower
        self.upper = upper
        self.bloom = bloom
        self.limit = limit
        self.cursor = cursor
    }

    /// The payload: the same five-item layout as the `rlp5` history request (Status specs 4/11), so one codec
    /// (``MailRequest``) writes and reads both.
    public var encoded: [UInt8] {
        MailRequest(lower: lower, upper: upper, bloom: bloom, limit: limit, cursor: cursor, batch: false, dialect: .rlp5).encoded()
    }

    /// Decodes a code-123 payload: exactly the five items, canonical integers, as Go's decoder insists.
    public init(payload: [UInt8]) throws(WhisperError) {
        let r: MailRequest
        do { r = try MailRequest.decodeRLP(payload) } catch {
            throw WhisperError(.invalidPacket, "sync request is not [Lower, Upper, Bloom, Limit, Cursor]: \(error.detail)", offset: error.offset)
        }
        guard r.dialect == .rlp5 else {
            throw WhisperError(.invalidPacket, "sync request is not [Lower, Upper, Bloom, Limit, Cursor]: it has more items")
        }
        self.init(lower: r.lower, upper: r.upper, bloom: r.bloom, limit: r.limit, cursor: r.cursor)
    }

    /// status-go's `Validate`: a limit of 1…1000 and Lower ≤ Upper; the reason otherwise.
    public var invalidity: String? {
        if limit == 0 || limit > Self.maxLimit { return "invalid 'Limit' value, expected value lower than \(Self.maxLimit)" }
        if lower > upper { return "invalid 'Lower' value, can't be greater than 'Upper'" }
        return nil
    }
}

/// Code 124: `[Envelopes, Cursor, Final, Error]` (Go's `RawSyncResponse`: raw envelope RLPs, bytes, bool, string).
public struct SyncResponse: Sendable, Equatable {
    /// Each envelope's RLP.
    public var envelopes: [[UInt8]]
    /// On the final response: the cursor of the next page, empty when none remains.
    public var cursor: [UInt8]
    public var final: Bool
    /// Empty, or why the request failed.
    public var error: String

    public init(envelopes: [[UInt8]] = [], cursor: [UInt8] = [], final: Bool = false, error: String = "") {
        self.envelopes = envelopes
        self.cursor = cursor
        self.final = final
        self.error = error
    }

    public var encoded: [UInt8] {
        var w = RLPWriter(reservingCapacity: envelopes.reduce(64) { $0 + $1.count })
        w.list { w in
            w.list { w in for e in envelopes { w.append(raw: e) } }
            w.append(bytes: cursor)
            w.append(bool: final)
            w.append(bytes: Array(error.utf8))
        }
        return w.bytes
    }

    /// Decodes a code-124 payload; each envelope is kept as its raw RLP (decoded by the receiver's checks).
    public init(payload: [UInt8]) throws(WhisperError) {
        do {
            var outer = RLPReader(payload)
            var r = try outer.readList()
            try outer.finish()
            var list = try r.readList()
            var envelopes: [[UInt8]] = []
            while !list.isAtEnd { envelopes.append(Array(try list.readRaw())) }
            self.envelopes = envelopes
            cursor = Array(try r.readBytes())
            final = try r.readBool()
            error = String(decoding: try r.readBytes(), as: UTF8.self)
            try r.finish()
        } catch {
            throw WhisperError(.invalidPacket, "sync response is not [Envelopes, Cursor, Final, Error]: \(error)", offset: error.offset)
        }
    }
}
