/// The two forms of the RLPx auth/ack packets.
public enum HandshakeFormat: String, Sendable, CaseIterable {
    /// EIP-8: size-prefixed, RLP bodies, padding; what current peers speak.
    case eip8
    /// Pre-EIP-8 fixed-size packets (307-byte auth, 210-byte ack) with no size prefix.
    case legacy
}
