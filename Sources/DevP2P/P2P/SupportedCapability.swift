/// A capability we speak, with what the transport must know about it.
public struct SupportedCapability: Hashable, Sendable {
    /// Name and version.
    public var capability: Capability
    /// The size of its message-code space (codes 0..<messageCount).
    public var messageCount: Int
    /// The largest (uncompressed) message payload accepted or sent, in bytes.
    public var maxMessageSize: Int

    /// A capability `name/version` with `messageCount` codes and a payload limit (10 MiB by default).
    public init(name: String, version: UInt64, messageCount: Int, maxMessageSize: Int = 10 * 1024 * 1024) {
        self.capability = Capability(name: name, version: version)
        self.messageCount = messageCount
        self.maxMessageSize = min(maxMessageSize, FrameEncoder.maxFrameSize)
    }
}
