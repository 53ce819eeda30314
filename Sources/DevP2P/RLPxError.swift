/// A failure on an RLPx connection, with the context needed to act on it.
///
/// ``disconnectReason`` is the reason sent to the peer when the failure ends a connection
/// after the encryption handshake (nil when nothing is owed, or nothing can be sent).
public struct RLPxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// An auth or ack packet declared more than the handshake size limit.
        case handshakeTooLarge = "handshake packet too large"
        /// An auth or ack packet could not be decrypted or decoded.
        case handshakeInvalid = "invalid handshake packet"
        /// The handshake (auth, ack and Hello) did not finish in time.
        case handshakeTimeout = "handshake timeout"
        /// A frame header MAC did not match.
        case badHeaderMAC = "bad frame header MAC"
        /// A frame body MAC did not match.
        case badFrameMAC = "bad frame MAC"
        /// A frame declared more bytes than allowed.
        case frameTooLarge = "frame too large"
        /// A message's (decoded) payload exceeds its capability's limit.
        case messageTooLarge = "message too large"
        /// A message's RLP or snappy data is malformed.
        case invalidMessage = "invalid message"
        /// A message id outside every negotiated capability, or a send on an unknown capability or code.
        case unknownMessage = "unknown message"
        /// The peer's Hello carries a null or malformed node id.
        case invalidIdentity = "invalid identity"
        /// The peer's Hello node id differs from the handshake identity.
        case unexpectedIdentity = "unexpected identity"
        /// No capability is shared with the peer.
        case uselessPeer = "useless peer"
        /// The peer is ourselves.
        case connectedToSelf = "connected to self"
        /// The server is full.
        case tooManyPeers = "too many peers"
        /// A peer with the same node id is already connected.
        case alreadyConnected = "already connected"
        /// The peer sent nothing (not even a Pong) for too long.
        case readTimeout = "read timeout"
        /// The peer sent Disconnect.
        case disconnectedByPeer = "disconnected by peer"
        /// We disconnected the peer.
        case disconnectedLocally = "disconnected locally"
        /// The connection closed (socket error or EOF).
        case connectionClosed = "connection closed"
        /// An enode URL is malformed.
        case invalidEnode = "invalid enode URL"
        /// A node key file is missing, malformed, or would be overwritten.
        case nodeKey = "node key file"
    }

    /// The kind of failure.
    public var code: Code
    /// Extra detail (offsets, sizes, the peer's reason).
    public var detail: String?
    /// The Disconnect reason the peer gave, for ``Code/disconnectedByPeer``.
    public var remoteReason: DisconnectReason?
    /// The Disconnect reason we gave, for ``Code/disconnectedLocally``.
    public var localReason: DisconnectReason?

    /// A failure of kind `code`.
    public init(
        _ code: Code,
        _ detail: String? = nil,
        remoteReason: DisconnectReason? = nil,
        localReason: DisconnectReason? = nil
    ) {
        self.code = code
        self.detail = detail
        self.remoteReason = remoteReason
        self.localReason = localReason
    }

    /// True when the connection ended because the peer broke the protocol: a handshake that failed
    /// or never finished, a bad MAC or message, a false identity, or a sub-protocol that dropped it
    /// for a protocol error. Honest peers do not; the server charges the peer's address for it.
    public var isViolation: Bool {
        switch code {
        case .handshakeTooLarge, .handshakeInvalid, .handshakeTimeout, .badHeaderMAC, .badFrameMAC, .frameTooLarge,
            .messageTooLarge, .invalidMessage, .unknownMessage, .invalidIdentity, .unexpectedIdentity:
            return true
        case .disconnectedLocally:
            return localReason == .protocolError || localReason == .subprotocolError
        default:
            return false
        }
    }

    /// The reason we send before closing (nil: just close).
    public var disconnectReason: DisconnectReason? {
        switch code {
        case .badHeaderMAC, .badFrameMAC, .frameTooLarge, .messageTooLarge, .invalidMessage, .unknownMessage:
            return .protocolError
        case .invalidIdentity: return .invalidIdentity
        case .unexpectedIdentity: return .unexpectedIdentity
        case .uselessPeer: return .uselessPeer
        case .connectedToSelf: return .connectedToSelf
        case .tooManyPeers: return .tooManyPeers
        case .alreadyConnected: return .alreadyConnected
        case .readTimeout: return .readTimeout
        case .handshakeTooLarge, .handshakeInvalid, .handshakeTimeout, .disconnectedByPeer, .disconnectedLocally,
            .connectionClosed, .invalidEnode, .nodeKey:
            return nil
        }
    }

    public var description: String {
        var s = "RLPx: \(code.rawValue)"
        if let remoteReason { s += " (\(remoteReason))" }
        if let detail { s += ": \(detail)" }
        return s
    }
}
