import EthCrypto
import NIOCore

/// What the handshake and the Hello exchange established about a peer.
struct RLPxPeerInfo: Sendable {
    var remotePublicKey: PublicKey
    var hello: Hello
    var capabilities: [NegotiatedCapability]
    var snappy: Bool
    var format: HandshakeFormat
    /// The async bridge, installed in the pipeline at the moment the peer is established (nil on EmbeddedChannel tests).
    var bridge: NIOAsyncChannel<RLPxMessage, RLPxMessage>?
}
