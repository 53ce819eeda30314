import ArchiveStore
import DevP2P
import EthCrypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RLP
import Whisper

#if canImport(Glibc)
import Glibc
#endif

/// A running mailserver: an RLPx server speaking shh/6 and waku/1 over one envelope store.
///
/// Incoming envelopes (code 1) that pass the receive checks are archived and relayed to the other
/// peers that want them; history requests (0x7e) are answered from the store.
public final class MailServerNode: Sendable {
    /// The enode URL peers dial.
    public let enode: EnodeURL
    /// Counters for `--metrics`.
    public let metrics: MailServerMetrics

    let server: RLPxServer
    let store: any EnvelopeStore
    let configuration: MailServerConfiguration
    let processor: RequestProcessor
    let logger: Logger
    let sessions = NIOLockedValueBox<[ObjectIdentifier: PeerSession]>([:])
    let rlpx: RLPxConfiguration
    let staticPeersBox = NIOLockedValueBox<StaticPeers?>(nil)

    /// Binds the listening socket.
    public static func start(
        store: any EnvelopeStore,
        configuration: MailServerConfiguration,
        host: String,
        port: Int,
        maxPeers: Int,
        metrics: MailServerMetrics = MailServerMetrics(),
        logger: Logger = Logger(label: "whisper-archive.serve")
    ) async throws(RLPxError) -> MailServerNode {
        var rlpx = RLPxConfiguration(
            nodeKey: configuration.nodeKey,
            capabilities: MailProtocol.allCases.map { $0.capability(maxMessageSize: configuration.maxMessageSize + 1024) }
        )
        rlpx.logger = logger
        rlpx.connectionsPerSecondPerIP = configuration.connectionsPerSecondPerIP > 0 ? configuration.connectionsPerSecondPerIP : nil
        rlpx.violationPenalty = configuration.violationPenalty
        if configuration.peerBytesPerSecond > 0 {
            rlpx.inboundBytesPerSecond = configuration.peerBytesPerSecond
            rlpx.inboundBurstBytes = max(4 << 20, 2 * configuration.maxMessageSize)
        }
        let server = try await RLPxServer.bind(host: host, port: port, configuration: rlpx, maxPeers: maxPeers)
        return MailServerNode(server: server, store: store, configuration: configuration, rlpx: rlpx, metrics: metrics, logger: logger)
    }

    init(
        server: RLPxServer,
        store: any EnvelopeStore,
        configuration: MailServerConfiguration,
        rlpx: RLPxConfiguration,
        metrics: MailServerMetrics,
        logger: Logger
    ) {
        self.server = server
        self.enode = server.enode
        self.store = store
        self.configuration = configuration
        self.processor = RequestProcessor(store: store, configuration: configuration)
        self.metrics = metrics
        self.logger = logger
        self.rlpx = rlpx
    }

    /// How often the stored-envelopes gauge is read from the store (a count that costs O(1) on both engines).
    static let countInterval: Duration = .seconds(10)

    /// Accepts peers until ``shutdown()``; each peer runs in its own task. Meanwhile the stored-envelopes gauge
    /// (`mailserver_archived_envelopes_total`, a gauge as in status-go) is refreshed from the store; a store that cannot answer (a database
    /// that is down) counts `whisper_archive_store_errors_total`.
    public func run() async {
        let counter = Task { [store, metrics] in
            while !Task.isCancelled {
                do {
                    metrics.set("mailserver_archived_envelopes_total", Double(try await store.count()))
                } catch {
                    metrics.increment(PeerStateMachine.storeErrors)
                }
                try? await Task.sleep(for: Self.countInterval)
            }
        }
        await withDiscardingTaskGroup { group in
            for await peer in server.peers {
                group.addTask { await self.serve(peer) }
            }
        }
        counter.cancel()
    }

    /// Dials `node` and serves it like an inbound peer, once.
    public func connect(to node: EnodeURL) async throws(RLPxError) {
        let peer = try await RLPxDialer.connect(to: node, configuration: rlpx)
        Task { await self.serve(peer) }
    }

    /// Sets the static peers (`--peer`): each is dialled, and dialled again with backoff while it is down.
    @discardableResult
    public func setStaticPeers(_ peers: [EnodeURL]) -> (added: [String], removed: [String]) {
        staticPeers.set(peers)
    }

    /// Changes the minimum seconds between two requests of one peer (a config reload).
    public func setRateLimit(_ seconds: Double) { processor.limiter.setInterval(seconds) }

    /// The number of connected peers.
    public var peerCount: Int { sessions.withLockedValue { $0.count } }

    var staticPeers: StaticPeers {
        staticPeersBox.withLockedValue { box in
            if let p = box { return p }
            let p = StaticPeers(node: self, backoff: staticPeerBackoff)
            box = p
            return p
        }
    }

    /// The pauses between dials of a static peer.
    public var staticPeerBackoff: StaticPeers.Backoff { StaticPeers.Backoff() }

    /// Stops accepting, disconnects every peer with "client quitting", and returns once they are gone.
    public func shutdown() async {
        staticPeersBox.withLockedValue { $0 }?.stop()
        await server.close()
        let all = sessions.withLockedValue { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for s in all { group.addTask { await s.peer.disconnect(reason: .quitting) } }
        }
    }

    func serve(_ peer: RLPxPeer) async {
        let session = PeerSession(peer: peer, node: self)
        let id = ObjectIdentifier(session)
        let log = session.logger
        let protocols = session.machine.withLockedValue { $0.protocols }
        log.info(
            "peer connected",
            metadata: [
                "address": "\(peer.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?")",
                "client": "\(peer.remoteHello.clientID)",
                "protocols": "\(protocols.map(\.capabilityName).joined(separator: ","))",
            ]
        )
        sessions.withLockedValue { $0[id] = session }
        updatePeerGauges()
        let started = Self.now()
        await session.run()
        let why = await peer.waitUntilClosed()
        sessions.withLockedValue { $0[id] = nil }
        updatePeerGauges()
        log.info("peer disconnected", metadata: ["reason": "\(why)", "seconds": "\(Int(Self.now() - started))"])
    }

    /// `whisper_archive_peers{protocol}`: each peer counted once, under the newest protocol it shares with us (the
    /// one relays go out on).
    func updatePeerGauges() {
        let newest = sessions.withLockedValue { all in all.values.map { $0.machine.withLockedValue { $0.protocols.last } } }
        for proto in MailProtocol.allCases {
            let n = newest.filter { $0 == proto }.count
            metrics.set("whisper_archive_peers{protocol=\"\(proto.capabilityName)\"}", Double(n))
        }
    }

    /// Sends newly archived envelopes to every other peer that wants them.
    func relay(_ envelopes: [PeerStateMachine.AcceptedEnvelope], from origin: PeerSession) {
        let others = sessions.withLockedValue { $0.values.filter { $0 !== origin } }
        for other in others { other.enqueueRelay(envelopes) }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
