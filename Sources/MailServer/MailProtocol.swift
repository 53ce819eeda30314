import DevP2P

/// The two sub-protocols a mailserver speaks: shh/6 and waku/1 (same envelopes, different status).
public enum MailProtocol: String, Sendable, CaseIterable {
    /// Whisper v6.
    case whisper = "shh"
    /// Waku v1.
    case waku = "waku"

    /// The devp2p capability name.
    public var capabilityName: String { rawValue }
    /// The capability version.
    public var version: UInt64 { self == .whisper ? 6 : 1 }
    /// Size of the message-code space (`NumberOfMessageCodes`).
    public static let messageCount = 128

    /// The capability to announce, with the largest message accepted from a peer.
    public func capability(maxMessageSize: Int) -> SupportedCapability {
        SupportedCapability(name: capabilityName, version: version, messageCount: MailProtocol.messageCount,
                            maxMessageSize: maxMessageSize)
    }

    /// The protocol a negotiated capability name stands for.
    public init?(capabilityName: String) { self.init(rawValue: capabilityName) }
}

/// Message codes of shh/6 and waku/1 (whisper §4.2, §7).
public enum MailCode {
    public static let status: UInt64 = 0
    public static let messages: UInt64 = 1
    public static let powRequirement: UInt64 = 2
    public static let bloomFilter: UInt64 = 3
    public static let batchAcknowledged: UInt64 = 11
    public static let messageResponse: UInt64 = 12
    public static let statusUpdate: UInt64 = 22
    public static let p2pRequestComplete: UInt64 = 125
    public static let p2pRequest: UInt64 = 126
    public static let p2pMessage: UInt64 = 127
}
