/// A p2p Disconnect reason code (rlpx-rlp.md §6.2).
///
/// An open set: unknown codes received from a peer are kept as they are.
public struct DisconnectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code on the wire.
    public var rawValue: UInt8

    /// A reason with code `rawValue`.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 0x00: disconnect requested.
    public static let requested = DisconnectReason(rawValue: 0x00)
    /// 0x01: TCP sub-system error.
    public static let networkError = DisconnectReason(rawValue: 0x01)
    /// 0x02: breach of protocol (bad MAC, bad RLP, oversize frame).
    public static let protocolError = DisconnectReason(rawValue: 0x02)
    /// 0x03: no shared capability.
    public static let uselessPeer = DisconnectReason(rawValue: 0x03)
    /// 0x04: too many peers.
    public static let tooManyPeers = DisconnectReason(rawValue: 0x04)
    /// 0x05: already connected.
    public static let alreadyConnected = DisconnectReason(rawValue: 0x05)
    /// 0x06: incompatible p2p protocol version.
    public static let incompatibleVersion = DisconnectReason(rawValue: 0x06)
    /// 0x07: null or invalid node identity.
    public static let invalidIdentity = DisconnectReason(rawValue: 0x07)
    /// 0x08: client quitting.
    public static let quitting = DisconnectReason(rawValue: 0x08)
    /// 0x09: identity differs from the handshake's.
    public static let unexpectedIdentity = DisconnectReason(rawValue: 0x09)
    /// 0x0a: connected to self.
    public static let connectedToSelf = DisconnectReason(rawValue: 0x0A)
    /// 0x0b: ping or read timeout.
    public static let readTimeout = DisconnectReason(rawValue: 0x0B)
    /// 0x10: sub-protocol specific reason.
    public static let subprotocolError = DisconnectReason(rawValue: 0x10)

    public var description: String {
        let name: String
        switch rawValue {
        case 0x00: name = "disconnect requested"
        case 0x01: name = "network error"
        case 0x02: name = "breach of protocol"
        case 0x03: name = "useless peer"
        case 0x04: name = "too many peers"
        case 0x05: name = "already connected"
        case 0x06: name = "incompatible p2p version"
        case 0x07: name = "invalid node identity"
        case 0x08: name = "client quitting"
        case 0x09: name = "unexpected identity"
        case 0x0A: name = "connected to self"
        case 0x0B: name = "read timeout"
        case 0x10: name = "subprotocol error"
        default: name = "unknown reason"
        }
        return "\(name) (0x\(String(rawValue, radix: 16)))"
    }
}
