/// One sub-protocol message: the capability name, its code within that capability, and the RLP payload.
public struct RLPxMessage: Sendable, Equatable {
    /// The capability name (unique among a peer's negotiated capabilities), such as "shh".
    public var capability: String
    /// The message code relative to the capability (0 is its first message).
    public var code: UInt64
    /// The uncompressed payload.
    public var payload: [UInt8]

    /// A message.
    public init(capability: String, code: UInt64, payload: [UInt8]) {
        self.capability = capability
        self.code = code
        self.payload = payload
    }
}
