import EthCrypto
import Whisper

/// How a mailserver decides what to accept and answer.
public struct MailServerConfiguration: Sendable {
    /// The node key: its public key is the enode identity, and requests may be encrypted to it.
    public var nodeKey: PrivateKey
    /// The symmetric key derived from the mailserver password, if one is set.
    public var passwordKey: [UInt8]?
    /// Minimum PoW for incoming envelopes and for request envelopes (status: 0.000002; go-ethereum: 0.2).
    public var minPoW: Double = 0.000002
    /// Largest envelope and largest 0x7f bundle, in bytes (`MaxMessageSize`).
    public var maxMessageSize: Int = ReceivePolicy.defaultMaxMessageSize
    /// Preferred size of a 0x7f bundle, in bytes (never above `maxMessageSize`). A page goes out as
    /// several bundles of about this size, so the requester opens and stores the first while the
    /// server still seals the next, and other peers' frames interleave on the event loop.
    public var bundleBytes = 256 << 10
    /// Minimum seconds between two accepted requests of one peer (0 disables the limit).
    public var rateLimitSeconds: Double = 0
    /// Each peer's inbound byte budget in bytes per second (0: unlimited); past it the server stops reading
    /// from that peer until the budget refills.
    public var peerBytesPerSecond = 8 << 20
    /// New connections accepted per second from one IP address, with bursts of twice that (0: unlimited).
    public var connectionsPerSecondPerIP = 32
    /// Connections charged to an address when one of its connections ends in a protocol violation
    /// (0: none); see `RLPxConfiguration.violationPenalty`.
    public var violationPenalty = 32
    /// Page size when a request gives none, and the largest accepted.
    public var maxLimit: UInt32 = 1000
    /// Seconds added to "now" when a request's upper bound is 0.
    public var upperSafety: UInt32 = 60
    /// The peers whose sync requests (code 123) are answered (`--trusted-peer`, and every `--sync-peer`); any
    /// other peer gets the error response. status-go answers anyone; a whole archive on request is not for them.
    public var trustedPeers: Set<PublicKey> = []

    public init(nodeKey: PrivateKey, password: String? = nil) {
        self.nodeKey = nodeKey
        self.passwordKey = password.map(SymmetricCrypto.keyFromPassword)
    }
}
