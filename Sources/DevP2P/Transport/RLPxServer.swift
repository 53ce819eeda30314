import EthCrypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An RLPx listener: accepts connections, runs the handshake and Hello, and hands out peers.
///
/// Each connection is independent: a failed handshake or a protocol breach ends only that one.
public final class RLPxServer: Sendable {
    /// The bound address.
    public let localAddress: SocketAddress
    /// Established peers, in the order their Hello exchange completed.
    public let peers: AsyncStream<RLPxPeer>
    /// Our node URL (the bound address; a wildcard address reads as 127.0.0.1).
    public let enode: EnodeURL

    let serverChannel: Channel
    let state: NIOLockedValueBox<State>
    let continuation: AsyncStream<RLPxPeer>.Continuation

    struct State {
        var connected: [PublicKey: Channel] = [:]
        var closed = false
        /// Connections whose handshake is still running.
        var pending = 0
        /// Each remote IP's budget of new connections.
        var perIP: [String: TokenBucket] = [:]

        /// Admits a new connection from `ip` now, or says why not.
        mutating func admitConnection(from ip: String, configuration: RLPxConfiguration) -> String? {
            if closed { return "server closing" }
            if pending >= configuration.maxPendingHandshakes { return "\(pending) handshakes already running" }
            if let rate = configuration.connectionsPerSecondPerIP {
                let now = configuration.connectionBudgetClock()
                if perIP.count > 4096 { perIP = perIP.filter { !$0.value.isFull(now: now) } }
                var budget = perIP[ip] ?? TokenBucket(ratePerSecond: rate, burst: 2 * rate, now: now)
                guard budget.take(1, now: now) else { return "more than \(rate) new connections per second from \(ip)" }
                perIP[ip] = budget
            }
            pending += 1
            return nil
        }

        /// Charges `ip`'s connection budget for a protocol violation. It may go negative, down to minus
        /// its burst: the address then waits up to two seconds' worth of its rate before its next
        /// connection is admitted (bounded, so that honest peers behind the same address come back).
        mutating func penalize(_ ip: String, configuration: RLPxConfiguration) {
            guard let rate = configuration.connectionsPerSecondPerIP, configuration.violationPenalty > 0 else { return }
            let now = configuration.connectionBudgetClock()
            var budget = perIP[ip] ?? TokenBucket(ratePerSecond: rate, burst: 2 * rate, now: now)
            budget.charge(configuration.violationPenalty, now: now, floor: budget.burst)
            perIP[ip] = budget
        }
    }

    init(
        serverChannel: Channel,
        enode: EnodeURL,
        state: NIOLockedValueBox<State>,
        peers: AsyncStream<RLPxPeer>,
        continuation: AsyncStream<RLPxPeer>.Continuation
    ) throws(RLPxError) {
        guard let address = serverChannel.localAddress else { throw RLPxError(.connectionClosed, "server has no address") }
        self.localAddress = address
        self.serverChannel = serverChannel
        self.enode = enode
        self.state = state
        self.peers = peers
        self.continuation = continuation
    }

    /// Listens on `host:port` (port 0 picks a free one).
    /// - Parameters:
    ///   - maxPeers: established peers beyond this are sent ``DisconnectReason/tooManyPeers``.
    public static func bind(
        host: String = "0.0.0.0",
        port: Int,
        configuration: RLPxConfiguration,
        maxPeers: Int = 50,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RLPxError) -> RLPxServer {
        let state = NIOLockedValueBox(State())
        let (stream, continuation) = AsyncStream<RLPxPeer>.makeStream()
        let admission: RLPxHandler.Admission = { info, channel in
            state.withLockedValue { s -> RLPxError? in
                if s.closed { return RLPxError(.tooManyPeers, "server closing") }
                if s.connected[info.remotePublicKey] != nil { return RLPxError(.alreadyConnected) }
                if s.connected.count >= maxPeers { return RLPxError(.tooManyPeers, "\(maxPeers) peers connected") }
                s.connected[info.remotePublicKey] = channel
                channel.closeFuture.whenComplete { _ in
                    state.withLockedValue { s in
                        if s.connected[info.remotePublicKey] === channel { s.connected[info.remotePublicKey] = nil }
                    }
                }
                return nil
            }
        }
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 512)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    let ip = channel.remoteAddress?.ipAddress ?? "?"
                    if let refusal = state.withLockedValue({ $0.admitConnection(from: ip, configuration: configuration) }) {
                        configuration.logger.debug("refusing a connection before its handshake", metadata: ["reason": "\(refusal)"])
                        return channel.eventLoop.makeFailedFuture(RLPxError(.tooManyPeers, refusal))
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        let pending: RLPxChannelSetup.Pending
                        do {
                            pending = try RLPxChannelSetup.install(
                                on: channel,
                                configuration: configuration,
                                remote: nil,
                                admission: admission
                            )
                        } catch {
                            state.withLockedValue { $0.pending -= 1 }
                            throw error
                        }
                        pending.established.whenComplete { _ in state.withLockedValue { $0.pending -= 1 } }
                        pending.closed.whenSuccess { reason in
                            if reason.isViolation {
                                state.withLockedValue { $0.penalize(ip, configuration: configuration) }
                            }
                        }
                        pending.established.whenSuccess { _ in
                            Task {
                                if let peer = try? await pending.peer() { continuation.yield(peer) }
                            }
                        }
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw RLPxError(.connectionClosed, "cannot listen: \(NetworkErrorText.describe(error, peer: "\(host):\(port)"))")
        }
        var ip = channel.localAddress?.ipAddress ?? host
        if ip == "0.0.0.0" || ip == "::" { ip = "127.0.0.1" }
        let node = EnodeURL(publicKey: configuration.nodeKey.publicKey, host: ip, tcpPort: channel.localAddress?.port ?? port)
        return try RLPxServer(serverChannel: channel, enode: node, state: state, peers: stream, continuation: continuation)
    }

    /// The number of established peers.
    public var peerCount: Int { state.withLockedValue { $0.connected.count } }

    /// Stops accepting, sends ``DisconnectReason/quitting`` to every peer, and ends ``peers``.
    public func close() async {
        let channels = state.withLockedValue { s -> [Channel] in
            s.closed = true
            return Array(s.connected.values)
        }
        try? await serverChannel.close()
        for c in channels {
            c.triggerUserOutboundEvent(RLPxDisconnectRequest(reason: .quitting), promise: nil)
        }
        for c in channels { try? await c.closeFuture.get() }
        continuation.finish()
    }
}
