import EthCrypto
import Logging
import Metrics
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
        mutating func admitConnection(from ip: String, configuration: RLPxConfiguration) -> Refusal? {
            if closed { return Refusal(.closing, "server closing") }
            if pending >= configuration.maxPendingHandshakes {
                return Refusal(.handshakes, "\(pending) handshakes already running")
            }
            if let rate = configuration.connectionsPerSecondPerIP {
                let now = configuration.connectionBudgetClock()
                if perIP.count > 4096 { perIP = perIP.filter { !$0.value.isFull(now: now) } }
                var budget = perIP[ip] ?? TokenBucket(ratePerSecond: rate, burst: 2 * rate, now: now)
                guard budget.take(1, now: now) else {
                    return Refusal(.addressRate, "more than \(rate) new connections per second from \(ip)")
                }
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

    /// Why a connection was refused: the `reason` label of `whisper_archive_refused_connections_total`, and the
    /// words of the log line.
    public struct Refusal: Sendable, CustomStringConvertible {
        /// The label values, one per rule.
        public enum Reason: String, Sendable, CaseIterable {
            /// The server is stopping.
            case closing
            /// Too many handshakes running at once.
            case handshakes
            /// The remote address opened connections faster than its budget.
            case addressRate = "address_rate"
            /// `maxPeers` peers are connected.
            case maxPeers = "max_peers"
            /// The node is connected already.
            case duplicate
        }

        /// The rule.
        public var reason: Reason
        /// The detail.
        public var description: String

        init(_ reason: Reason, _ description: String) {
            self.reason = reason
            self.description = description
        }

        /// The metric name.
        public static let metric = "whisper_archive_refused_connections_total"

        /// Counts the refusal and logs it (info: an operator sees every refusal and its reason).
        func record(ip: String, logger: Logger) {
            Counter(label: Self.metric, dimensions: [("reason", reason.rawValue)]).increment()
            logger.info("refused a connection", metadata: ["address": "\(ip)", "reason": "\(reason.rawValue)", "detail": "\(description)"])
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
            let refusal = state.withLockedValue { s -> (Refusal, RLPxError)? in
                if s.closed { return (Refusal(.closing, "server closing"), RLPxError(.tooManyPeers, "server closing")) }
                if s.connected[info.remotePublicKey] != nil {
                    return (Refusal(.duplicate, "node already connected"), RLPxError(.alreadyConnected))
                }
                if s.connected.count >= maxPeers {
                    return (Refusal(.maxPeers, "\(maxPeers) peers connected"), RLPxError(.tooManyPeers, "\(maxPeers) peers connected"))
                }
                s.connected[info.remotePublicKey] = channel
                channel.closeFuture.whenComplete { _ in
                    state.withLockedValue { s in
                        if s.connected[info.remotePublicKey] === channel { s.connected[info.remotePublicKey] = nil }
                    }
                }
                return nil
            }
            guard let refusal else { return nil }
            refusal.0.record(ip: channel.remoteAddress?.ipAddress ?? "?", logger: configuration.logger)
            return refusal.1
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
                        refusal.record(ip: ip, logger: configuration.logger)
                        return channel.eventLoop.makeFailedFuture(RLPxError(.tooManyPeers, refusal.description))
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
