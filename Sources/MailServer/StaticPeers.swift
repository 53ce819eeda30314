import DevP2P
import Logging
import NIOConcurrencyHelpers

/// The static peers of `serve --peer`: each one is dialled at start, and dialled again, with a growing pause,
/// whenever it was down or its connection dropped, until it is removed (a config reload) or the node stops.
///
/// The pause starts at ``Backoff/initial`` and doubles after each failed dial or short session, up to
/// ``Backoff/maximum``; a session that lasted ``Backoff/stable`` or longer starts the count again.
public final class StaticPeers: Sendable {
    /// The pauses between dials.
    public struct Backoff: Sendable {
        public var initial: Double = 1
        public var maximum: Double = 60
        /// A session at least this long resets the pause to `initial`.
        public var stable: Double = 30

        public init() {}

        /// The pause after `pause`.
        func next(_ pause: Double) -> Double { min(maximum, pause * 2) }
    }

    let node: MailServerNode
    let backoff: Backoff
    let dialers = NIOLockedValueBox<[String: Task<Void, Never>]>([:])

    init(node: MailServerNode, backoff: Backoff) {
        self.node = node
        self.backoff = backoff
    }

    /// The peers dialled now.
    public var current: [String] { dialers.withLockedValue { $0.keys.sorted() } }

    /// Makes `peers` the static peers: new ones start being dialled, dropped ones stop (a connection already up
    /// stays until it ends). Returns what was added and removed.
    @discardableResult
    public func set(_ peers: [EnodeURL]) -> (added: [String], removed: [String]) {
        let wanted = Dictionary(peers.map { ($0.description, $0) }, uniquingKeysWith: { a, _ in a })
        return dialers.withLockedValue { running in
            let removed = running.keys.filter { wanted[$0] == nil }.sorted()
            for key in removed { running.removeValue(forKey: key)?.cancel() }
            let added = wanted.keys.filter { running[$0] == nil }.sorted()
            for key in added {
                let enode = wanted[key]!
                running[key] = Task { await self.keepDialling(enode) }
            }
            return (added, removed)
        }
    }

    /// Stops dialling every peer.
    public func stop() {
        let all = dialers.withLockedValue { d in
            defer { d.removeAll() }
            return Array(d.values)
        }
        for t in all { t.cancel() }
    }

    func keepDialling(_ enode: EnodeURL) async {
        var logger = node.logger
        logger[metadataKey: "enode"] = "\(enode.host ?? "?"):\(enode.tcpPort)"
        var pause = backoff.initial
        while !Task.isCancelled {
            let started = MailServerNode.now()
            do {
                let peer = try await RLPxDialer.connect(to: enode, configuration: node.rlpx)
                await node.serve(peer)
                if MailServerNode.now() - started >= backoff.stable { pause = backoff.initial }
                if Task.isCancelled { return }
                logger.info("static peer gone: dialling again", metadata: ["in_seconds": "\(pause)"])
            } catch {
                logger.warning("cannot dial the static peer", metadata: ["error": "\(error)", "retry_in_seconds": "\(pause)"])
            }
            do { try await Task.sleep(for: .milliseconds(Int64(pause * 1000))) } catch { return }
            pause = backoff.next(pause)
        }
    }
}
