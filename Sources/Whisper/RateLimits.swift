/// Per-IP, per-peer and per-topic rate limits announced in a status packet.
public struct RateLimits: Sendable, Equatable {
    public var ip: UInt64
    public var peerID: UInt64
    public var topic: UInt64

    public init(ip: UInt64 = 0, peerID: UInt64 = 0, topic: UInt64 = 0) {
        self.ip = ip
        self.peerID = peerID
        self.topic = topic
    }
}
