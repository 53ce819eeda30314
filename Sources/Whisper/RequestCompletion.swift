import RLP

/// The 0x7d "p2p request complete" payload: one RLP byte string (whisper §5.7).
public enum RequestCompletion: Sendable, Equatable {
    /// Success: request ID, the last envelope hash (32 zero bytes if none matched), and a cursor when more remain.
    case success(requestID: [UInt8], lastEnvelopeHash: [UInt8], cursor: Cursor?)
    /// Failure: `"ERROR=" ‖ requestID ‖ text`.
    case failure(requestID: [UInt8], message: String)

    static let errorPrefix = Array("ERROR=".utf8)

    /// The string content (before RLP wrapping).
    public var content: [UInt8] {
        switch self {
        case .success(let id, let last, let cursor):
            return id + last + (cursor?.bytes ?? [])
        case .failure(let id, let message):
            return RequestCompletion.errorPrefix + id + Array(message.utf8)
        }
    }

    /// The 0x7d packet payload: the content as one RLP string.
    public var encoded: [UInt8] {
        var w = RLPWriter(reservingCapacity: 110)
        w.append(bytes: content)
        return w.bytes
    }

    /// Parses a 0x7d packet payload as status-go's client does.
    public init(payload: [UInt8]) throws(WhisperError) {
        let content: [UInt8]
        do {
            var r = RLPReader(payload)
            content = Array(try r.readBytes())
            try r.finish()
        } catch {
            throw WhisperError(.invalidPacket, "0x7d payload is not one RLP string: \(error)", offset: error.offset)
        }
        guard content.count >= 32 else {
            throw WhisperError(.invalidPacket, "0x7d content of \(content.count) bytes is shorter than a request ID")
        }
        if content.count >= 38, content.starts(with: RequestCompletion.errorPrefix) {
            self = .failure(requestID: Array(content[6..<38]), message: String(decoding: content[38...], as: UTF8.self))
            return
        }
        guard content.count <= 100 else {
            throw WhisperError(.invalidPacket, "0x7d content of \(content.count) bytes is longer than 100")
        }
        let id = Array(content[0..<32])
        let last = content.count >= 64 ? Array(content[32..<64]) : [UInt8](repeating: 0, count: 32)
        var cursor: Cursor?
        if content.count >= 100 { cursor = try Cursor(bytes: content[64..<100]) }
        self = .success(requestID: id, lastEnvelopeHash: last, cursor: cursor)
    }

    /// The request ID.
    public var requestID: [UInt8] {
        switch self {
        case .success(let id, _, _), .failure(let id, _): return id
        }
    }
}
