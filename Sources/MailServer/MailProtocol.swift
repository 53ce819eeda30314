import DevP2P
import Whisper

/// The two sub-protocols a mailserver speaks: shh/6 and waku/1 (same envelopes, different status).
public enum MailProtocol: String, Sendable, CaseIterable {
    /// Whisper v6.
    case whisper = "shh"
    /// Waku v1.
    case waku = "waku"

    /// The devp2p capability name.
    public var capabilityName: String { rawValue }
    /// The prefix of status-go's transport metrics for this protocol (`whisper_envelopes_received_total`, `waku_…`).
    public var metricPrefix: String { self == .whisper ? "whisper" : "waku" }
    /// The capability version.
    public var version: UInt64 { self == .whisper ? 6 : 1 }
    /// Size of the message-code space (`NumberOfMessageCodes`).
    public static let messageCount = 128

    /// The capability to announce, with the largest message accepted from a peer.
    public func capability(maxMessageSize: Int) -> SupportedCapability {
        SupportedCapability(
            name: capabilityName,
            version: version,
            messageCount: MailProtocol.messageCount,
            maxMessageSize: maxMessageSize
        )
    }

    /// The protocol a negotiated capability name stands for.
    public init?(capabilityName: String) { self.init(rawValue: capabilityName) }

    /// The message-response code of a rejected envelope: "time not synced" for the clock errors that
    /// status-go reports without disconnecting, "other" for the rest.
    public func envelopeErrorCode(timeNotSynced: Bool) -> EnvelopeErrorCode {
        switch self {
        case .whisper: return timeNotSynced ? .whisperTimeNotSynced : .whisperOther
        case .waku: return timeNotSynced ? .wakuTimeNotSynced : .wakuOther
        }
    }
}

/// Message codes of shh/6 and waku/1 (whisper §4.2, §7).
public enum MailCode {
    /// Status: the first message each way.
    public static let status: UInt64 = 0
    /// Live envelopes (a list).
    public static let messages: UInt64 = 1
    /// shh/6 only: the sender's new PoW requirement.
    public static let powRequirement: UInt64 = 2
    /// shh/6 only: the sender's new bloom filter.
    public static let bloomFilter: UInt64 = 3
    /// ``BatchAcknowledgement``: a code-1 batch is stored.
    public static let batchAcknowledged: UInt64 = 11
    /// ``MessageResponse``: the envelopes of a code-1 batch that were not accepted.
    public static let messageResponse: UInt64 = 12
    /// waku/1 only: status options changed.
    public static let statusUpdate: UInt64 = 22
    /// ``RequestCompletion``: the end of one history request's answer.
    public static let p2pRequestComplete: UInt64 = 125
    /// A history request to a mailserver.
    public static let p2pRequest: UInt64 = 126
    /// History envelopes from a mailserver.
    public static let p2pMessage: UInt64 = 127
}
