import EthCrypto
import NIOCore
import NIOPosix

/// Dials RLPx peers.
public enum RLPxDialer {
    /// Connects to `node`, runs the handshake and the Hello exchange, and returns the peer.
    /// - Parameters:
    ///   - connectTimeout: the TCP connect deadline (15 s as geth); the handshake has its own.
    /// - Throws: ``RLPxError`` (the peer's Disconnect reason is in ``RLPxError/remoteReason``).
    public static func connect(
        to node: EnodeURL,
        configuration: RLPxConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        connectTimeout: TimeAmount = .seconds(15)
    ) async throws(RLPxError) -> RLPxPeer {
        guard let host = node.host, node.isDialable else {
            throw RLPxError(.invalidEnode, "\(node) has no host and port")
        }
        let pending: RLPxChannelSetup.Pending
        do {
            pending = try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: node.tcpPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try RLPxChannelSetup.install(on: channel, configuration: configuration, remote: node.publicKey)
                    }
                }
        } catch {
            throw RLPxError(.connectionClosed, NetworkErrorText.describe(error, peer: "\(host):\(node.tcpPort)"))
        }
        return try await pending.peer()
    }
}
