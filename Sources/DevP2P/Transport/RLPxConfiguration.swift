import EthCrypto
import Logging
import NIOCore

/// Everything an RLPx server or dialer needs to know about this node.
public struct RLPxConfiguration: Sendable {
    /// This package's version, announced in the client id.
    public static let version = "0.1.0"

    /// Our static node key (identity).
    public var nodeKey: PrivateKey
    /// The capabilities we speak; a peer sharing none of them is dropped as useless.
    public var capabilities: [SupportedCapability]
    /// The client id sent in Hello.
    public var clientID: String = "whisper-archive/\(RLPxConfiguration.version)"
    /// Our p2p version: 5 (snappy when the peer also says ≥ 5) or 4 (never snappy).
    public var protocolVersion: UInt64 = 5
    /// The auth form a dialer sends (EIP-8 unless talking to very old peers).
    public var handshakeFormat: HandshakeFormat = .eip8
    /// Whether a server accepts pre-EIP-8 auth packets.
    public var acceptLegacyHandshake = true
    /// The largest auth/ack packet accepted.
    public var maxHandshakeSize = 2048
    /// Deadline for the whole handshake: auth, ack and both Hellos.
    public var handshakeTimeout: TimeAmount = .seconds(5)
    /// How often we send Ping.
    public var pingInterval: TimeAmount = .seconds(15)
    /// A peer silent for this long (no frame at all) is dropped with ``DisconnectReason/readTimeout``.
    public var readTimeout: TimeAmount = .seconds(30)
    /// Inbound messages buffered per peer before reading from the socket pauses (backpressure).
    public var inboundBufferHighWatermark = 16
    /// The buffered count under which reading resumes.
    public var inboundBufferLowWatermark = 4
    /// The peer's inbound byte budget: bytes per second it may send on average (nil: unlimited). Past its
    /// budget the connection stops reading until the budget refills, so TCP slows the peer down and its
    /// flood costs this node no more decoding than the budget allows.
    public var inboundBytesPerSecond: Int? = nil
    /// Bytes a peer may send at once above its rate (the token bucket's size).
    public var inboundBurstBytes = 4 << 20
    /// New connections a server accepts per second from one IP address (nil: unlimited), with bursts of
    /// twice that. Connections past it are closed at once, before the handshake costs any cryptography,
    /// so a peer that reconnects in a loop cannot eat the node's CPU.
    public var connectionsPerSecondPerIP: Int? = 32
    /// Connections charged to an IP address when one of its connections ends in a protocol
    /// violation (``RLPxError/isViolation``): by default one second of its budget, so an address
    /// that sends junk in a loop gets about one handshake per second instead of 32. The debt is
    /// capped at the burst size (two seconds of budget).
    public var violationPenalty = 32
    /// The clock the per-IP connection budgets read. Tests give a manual one, so that a budget refills only
    /// when they move it.
    public var connectionBudgetClock: @Sendable () -> NIODeadline = { NIODeadline.now() }
    /// Handshakes a server runs at once; connections past it are closed at once.
    public var maxPendingHandshakes = 256
    /// Where diagnostics go.
    public var logger = Logger(label: "devp2p")

    /// A configuration with defaults as go-ethereum's.
    public init(nodeKey: PrivateKey, capabilities: [SupportedCapability]) {
        self.nodeKey = nodeKey
        self.capabilities = capabilities
    }

    var sessionConfiguration: P2PSession.Configuration {
        .init(clientID: clientID, protocolVersion: protocolVersion, capabilities: capabilities)
    }
}
