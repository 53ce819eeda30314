import Whisper

/// What a connected peer told us in its status packets: the filter for relaying to it.
public struct PeerState: Sendable {
    /// The peer's PoW requirement.
    public var pow: Double = 0
    /// The peer's bloom (full node when absent).
    public var bloom: Bloom = .full
    /// waku topic interest (takes precedence over the bloom).
    public var topicInterest: Set<Topic>?
    /// Whether the peer wants batch acknowledgements and message responses.
    public var confirmations = false
    /// Whether the peer is a light node.
    public var lightNode = false

    public init() {}

    /// True when an envelope should be relayed to this peer.
    public func wants(_ envelope: Envelope, pow envelopePoW: Double) -> Bool {
        guard envelopePoW >= pow else { return false }
        if let topicInterest { return topicInterest.contains(envelope.topic) }
        return bloom.matches(envelope.bloom)
    }

    /// Applies a shh/6 status.
    mutating func apply(_ s: WhisperStatus) {
        pow = s.pow
        bloom = s.bloom
        lightNode = s.lightNode
        confirmations = s.confirmationsEnabled ?? false
    }

    /// Applies waku/1 status options (missing options keep their current value, defaults on first status).
    mutating func apply(_ s: WakuStatus) {
        if let p = s.pow { pow = p }
        if let b = s.bloom {
            bloom = b
            topicInterest = nil
        }
        if let t = s.topicInterest { topicInterest = Set(t) }
        if let l = s.lightNode { lightNode = l }
        if let c = s.confirmationsEnabled { confirmations = c }
    }
}
