import DevP2P
import EthCrypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RLP
import Whisper

/// The client side of the mailserver protocol, used by `request` and `replay`: dial a peer, exchange
/// status, send history requests and collect 0x7f batches until the 0x7d completion.
public final class MailClient: Sendable {
    /// A failure talking to a mailserver: one line in plain words that names the peer (`host:port`).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }

        /// `error` with `peer`, in plain words: "connection refused: 127.0.0.1:30303".
        public init(_ error: any Error, peer: String) {
            self.init(NetworkErrorText.describe(error, peer: peer))
        }

        /// `what` failed with `peer` because of `error`: "sending the request failed: connection reset by the peer: 127.0.0.1:30303".
        public init(_ what: String, _ error: any Error, peer: String) {
            self.init("\(what): \(NetworkErrorText.describe(error, peer: peer))")
        }
    }

    /// One answered page.
    public struct Page: Sendable {
        /// The envelopes of the 0x7f packets, in arrival order.
        public var envelopes: [Envelope]
        /// The completion.
        public var completion: RequestCompletion
        /// Bytes of 0x7f payloads received.
        public var bytes: Int
    }

    /// The connected peer.
    public let peer: RLPxPeer
    /// The protocol used.
    public let proto: MailProtocol
    /// The peer's `host:port`, as messages name it.
    public let address: String
    let inbox: Inbox

    /// Messages are read by one task and kept here until asked for (the peer's sequence has a single consumer).
    ///
    /// A wait that times out or is cancelled leaves the inbox as it was: an `AsyncStream` iteration, cancelled,
    /// would have ended the stream, and every later wait on that connection would have returned nothing at once.
    final class Inbox: Sendable {
        private struct State {
            var queue: [RLPxMessage] = []
            var finished = false
            var waiter: (id: UInt64, continuation: CheckedContinuation<RLPxMessage?, Never>)?
            var nextID: UInt64 = 0
        }

        private let state = NIOLockedValueBox(State())

        init(_ peer: RLPxPeer) {
            Task { [state] in
                for await m in peer.messages { Self.deliver(m, to: state) }
                let waiting = state.withLockedValue { s -> CheckedContinuation<RLPxMessage?, Never>? in
                    s.finished = true
                    defer { s.waiter = nil }
                    return s.waiter?.continuation
                }
                waiting?.resume(returning: nil)
            }
        }

        private static func deliver(_ m: RLPxMessage, to state: NIOLockedValueBox<State>) {
            let waiting = state.withLockedValue { s -> CheckedContinuation<RLPxMessage?, Never>? in
                guard let w = s.waiter else {
                    s.queue.append(m)
                    return nil
                }
                s.waiter = nil
                return w.continuation
            }
            waiting?.resume(returning: m)
        }

        /// The next message; nil when the connection has ended, `timeout` seconds passed, or the task was cancelled.
        func next(timeout: Double? = nil) async -> RLPxMessage? {
            let id = state.withLockedValue { s -> UInt64 in
                s.nextID += 1
                return s.nextID
            }
            let state = self.state
            let timer = timeout.map { t in
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(t * 1e9))
                    Self.giveUp(id, state)
                }
            }
            defer { timer?.cancel() }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<RLPxMessage?, Never>) in
                    let ready = state.withLockedValue { s -> RLPxMessage?? in
                        if !s.queue.isEmpty { return .some(s.queue.removeFirst()) }
                        if s.finished { return .some(nil) }
                        s.waiter = (id, c)
                        return nil
                    }
                    if let ready { c.resume(returning: ready) }
                }
            } onCancel: {
                Self.giveUp(id, state)
            }
        }

        private static func giveUp(_ id: UInt64, _ state: NIOLockedValueBox<State>) {
            let waiting = state.withLockedValue { s -> CheckedContinuation<RLPxMessage?, Never>? in
                guard let w = s.waiter, w.id == id else { return nil }
                s.waiter = nil
                return w.continuation
            }
            waiting?.resume(returning: nil)
        }
    }

    init(peer: RLPxPeer, proto: MailProtocol, address: String) {
        self.peer = peer
        self.proto = proto
        self.address = address
        self.inbox = Inbox(peer)
    }

    /// Dials `node`, speaks `proto`, and exchanges status (we announce a light node with an empty interest
    /// for live traffic, so only requested history arrives).
    public static func connect(
        to node: EnodeURL,
        key: PrivateKey,
        proto: MailProtocol,
        maxMessageSize: Int = 10 << 20,
        confirmations: Bool = false,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MailClient {
        var configuration = RLPxConfiguration(nodeKey: key, capabilities: [proto.capability(maxMessageSize: maxMessageSize)])
        configuration.clientID = "whisper-archive/\(RLPxConfiguration.version)"
        let address = Self.address(of: node)
        let peer: RLPxPeer
        do { peer = try await RLPxDialer.connect(to: node, configuration: configuration, group: group) } catch {
            throw Failure(error, peer: address)
        }
        guard peer.version(of: proto.capabilityName) == proto.version else {
            await peer.disconnect(reason: .uselessPeer)
            throw Failure("the peer does not speak \(proto.capabilityName)/\(proto.version): \(address)")
        }
        let status: [UInt8]
        switch proto {
        case .whisper:
            status = WhisperStatus(pow: 0, bloom: .full, lightNode: true, confirmationsEnabled: confirmations).encoded
        case .waku:
            status = WakuStatus(pow: 0, bloom: .full, lightNode: true, confirmationsEnabled: confirmations).encoded
        }
        do { try await peer.send(capability: proto.capabilityName, code: MailCode.status, payload: status) } catch {
            throw Failure("sending the status failed", error, peer: address)
        }
        return MailClient(peer: peer, proto: proto, address: address)
    }

    /// `host:port` of an enode URL (IPv6 hosts in brackets).
    public static func address(of node: EnodeURL) -> String {
        let host = node.host ?? "?"
        return host.contains(":") ? "[\(host)]:\(node.tcpPort)" : "\(host):\(node.tcpPort)"
    }

    /// Builds the request envelope status-go sends: payload encrypted with the password's key (or to the
    /// server's node key when `sealing` is asymmetric), signed by `signer`, topic zero, TTL 50, PoW `pow`.
    public static func requestEnvelope(
        _ request: MailRequest,
        sealing: SealingKey,
        signer: PrivateKey,
        pow: Double,
        now: UInt32 = currentUnixTime()
    ) throws -> Envelope {
        try Envelope.seal(
            payload: request.encoded(),
            topic: Topic(rawValue: 0),
            key: sealing,
            signer: signer,
            ttl: 50,
            targetPoW: pow,
            now: now
        )
    }

    /// A page whose 0x7d completion has arrived; its 0x7f packets may still be being decoded.
    public struct PendingPage: Sendable {
        /// The completion.
        public var completion: RequestCompletion
        /// Bytes of 0x7f payloads received.
        public var bytes: Int
        let decoding: Task<[Envelope], any Error>

        /// The envelopes of the 0x7f packets, in arrival order, once decoded.
        public func envelopes() async throws -> [Envelope] { try await decoding.value }
    }

    /// Sends a 0x7e payload and collects the answer until the 0x7d whose request ID is `requestID`.
    public func exchange(payload: [UInt8], requestID: [UInt8], timeout: Double) async throws -> Page {
        let pending = try await request(payload: payload, requestID: requestID, timeout: timeout)
        return Page(envelopes: try await pending.envelopes(), completion: pending.completion, bytes: pending.bytes)
    }

    /// Sends a 0x7e payload and returns as soon as the 0x7d whose request ID is `requestID` arrives, while the
    /// 0x7f packets before it are still decoded on another task: a caller paging through history can send the
    /// next request at once (`request --all` does).
    public func request(payload: [UInt8], requestID: [UInt8], timeout: Double) async throws -> PendingPage {
        do { try await peer.send(capability: proto.capabilityName, code: MailCode.p2pRequest, payload: payload) } catch {
            throw Failure("sending the request failed", error, peer: address)
        }
        return try await withThrowingTaskGroup(of: PendingPage?.self) { group in
            group.addTask { try await self.collect(requestID: requestID) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                return nil
            }
            guard let first = try await group.next(), let page = first else {
                group.cancelAll()
                throw Failure("timed out after \(Self.seconds(timeout)) waiting for the mailserver's answer: \(self.address)")
            }
            group.cancelAll()
            return page
        }
    }

    func collect(requestID: [UInt8]) async throws -> PendingPage {
        let (payloads, feed) = AsyncStream.makeStream(of: [UInt8].self)
        let decoding = Task { () throws -> [Envelope] in
            var envelopes: [Envelope] = []
            for await payload in payloads {
                do { envelopes += try Envelope.decodeBatch(payload) } catch {
                    throw Failure("bad 0x7f packet", error, peer: address)
                }
            }
            return envelopes
        }
        var bytes = 0
        defer { feed.finish() }
        while let message = await inbox.next() {
            if Task.isCancelled { break }
            switch message.code {
            case MailCode.p2pMessage:
                bytes += message.payload.count
                feed.yield(message.payload)
            case MailCode.p2pRequestComplete:
                let completion: RequestCompletion
                do { completion = try RequestCompletion(payload: message.payload) } catch {
                    decoding.cancel()
                    throw Failure("undecodable 0x7d completion", error, peer: address)
                }
                guard completion.requestID == requestID else { continue }
                return PendingPage(completion: completion, bytes: bytes, decoding: decoding)
            default:
                continue
            }
        }
        decoding.cancel()
        throw Failure("the mailserver closed the connection", await peer.waitUntilClosed(), peer: address)
    }

    /// Sends one message of our protocol (a sync request, say).
    public func send(code: UInt64, payload: [UInt8]) async throws {
        do { try await peer.send(capability: proto.capabilityName, code: code, payload: payload) } catch {
            throw Failure("sending failed", error, peer: address)
        }
    }

    /// Sends envelopes as live traffic (code 1, one list per call).
    public func post(_ envelopes: [Envelope]) async throws {
        let payload = Envelope.encodeList(envelopes.map(\.rlp))
        do { try await peer.send(capability: proto.capabilityName, code: MailCode.messages, payload: payload) } catch {
            throw Failure("posting failed", error, peer: address)
        }
    }

    /// Sends envelopes as a mailserver answer (0x7f, one list per call).
    public func deliverHistoric(_ envelopes: [Envelope]) async throws {
        let payload = Envelope.encodeList(envelopes.map(\.rlp))
        do { try await peer.send(capability: proto.capabilityName, code: MailCode.p2pMessage, payload: payload) } catch {
            throw Failure("delivering failed", error, peer: address)
        }
    }

    /// Waits for the next message with `code` (for acknowledgements), up to `timeout` seconds.
    public func next(code: UInt64, timeout: Double) async -> RLPxMessage? {
        let deadline = ContinuousClock.now + .nanoseconds(Int64(timeout * 1e9))
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            guard let m = await inbox.next(timeout: seconds) else { return nil }
            if m.code == code { return m }
        }
    }

    /// "10 s", "2.5 s".
    static func seconds(_ t: Double) -> String {
        t == t.rounded() && t < 1e9 ? "\(Int(t)) s" : "\(t) s"
    }

    /// Disconnects.
    public func close() async { await peer.disconnect(reason: .requested) }
}
