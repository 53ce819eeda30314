import Whisper

/// Every request payload dialect (`MailRequest.decodePayload`, `decodeRLP`, `decodeLegacy`) and the direct
/// `MessagesRequest` (`decodeDirect`); what decodes must encode and decode back to the same request.
public enum RequestFuzz {
    /// One input: the whole input is the payload.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        for decoded in [try? MailRequest.decodePayload(bytes), try? MailRequest.decodeDirect(bytes)] {
            guard let request = decoded else { continue }
            _ = request.directRequestID
            let encoded = request.encoded()
            let again =
                request.dialect == .directWhisper || request.dialect == .directWaku
                ? try? MailRequest.decodeDirect(encoded) : try? MailRequest.decodePayload(encoded)
            precondition(again != nil, "a decoded \(request.dialect) request does not decode after encoding")
        }
        _ = try? MailRequest.decodeRLP(bytes)
        _ = try? MailRequest.decodeLegacy(bytes)
    }
}

/// The 0x7d request-completion decoder (`RequestCompletion(payload:)`).
public enum CompletionFuzz {
    /// One input: the whole input is the 0x7d payload.
    public static func run(_ data: UnsafeRawBufferPointer) {
        guard let completion = try? RequestCompletion(payload: [UInt8](data)) else { return }
        precondition(completion.requestID.count == 32, "a request ID of \(completion.requestID.count) bytes")
    }
}

/// The shh/6 status (`WhisperStatus(payload:)`) and the waku/1 status options (`WakuStatus(payload:)`).
public enum StatusFuzz {
    /// One input: the whole input is the status payload, tried as both.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        _ = try? WhisperStatus(payload: bytes)
        _ = try? WakuStatus(payload: bytes)
    }
}
