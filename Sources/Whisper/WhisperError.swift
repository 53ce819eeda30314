/// A failure in Whisper encoding, decoding or validation.
public struct WhisperError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// The bytes are not a valid envelope.
        case invalidEnvelope = "invalid envelope"
        /// The message inside an envelope could not be opened or parsed.
        case invalidMessage = "invalid message"
        /// The key does not open this message.
        case wrongKey = "wrong key"
        /// A mailserver request payload is malformed.
        case invalidRequest = "invalid request"
        /// A protocol packet (status, completion, …) is malformed.
        case invalidPacket = "invalid packet"
        /// A value given by the caller is out of range.
        case invalidArgument = "invalid argument"
    }

    /// The kind of failure.
    public var code: Code
    /// What exactly failed.
    public var detail: String
    /// Byte offset inside the input, when known.
    public var offset: Int?

    public init(_ code: Code, _ detail: String, offset: Int? = nil) {
        self.code = code
        self.detail = detail
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(code.rawValue) at byte \(offset): \(detail)" }
        return "\(code.rawValue): \(detail)"
    }
}
