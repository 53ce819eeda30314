import DevP2P
import Whisper

/// The shh/6 and waku/1 rules of one connected peer, as a pure state machine (whisper-mailserver §4–5).
///
/// Events go in (``Event``: the session starts, a message arrives, the archive answered, a timer fired), each with
/// the current UNIX time as `now`; ``Action``s come out, for ``PeerSession`` to carry out in order. It holds what
/// the peer told us in its status packets and whether the session still runs; it does no I/O and reads no clock.
///
/// The rules: our status goes out first on every shared protocol; the peer's first message on each protocol must be
/// its status, and without any status within ``Configuration/statusTimeout`` the peer is dropped. Envelopes that
/// pass the receive checks are stored, then relayed; a peer that enabled confirmations gets a message response for
/// the rejected ones and, once the store acknowledged, a batch acknowledgement. History requests are answered from
/// any peer (a server needs no trust); 0x7d and 0x7f from a peer are ignored, since we never asked it.
public struct PeerStateMachine: Sendable {
    /// What the machine is told about this server.
    public struct Configuration: Sendable {
        /// The minimum PoW of incoming envelopes, also announced in our status.
        public var minPoW: Double
        /// The largest envelope accepted.
        public var maxMessageSize: Int
        /// Seconds a peer has to send its status before it is dropped.
        public var statusTimeout: Double
        /// True when the peer is a trusted sync partner: its sync requests (code 123) are answered.
        public var trusted: Bool

        /// A configuration.
        public init(minPoW: Double, maxMessageSize: Int, statusTimeout: Double = 10, trusted: Bool = false) {
            self.minPoW = minPoW
            self.maxMessageSize = maxMessageSize
            self.statusTimeout = statusTimeout
            self.trusted = trusted
        }
    }

    enum Phase: Sendable, Equatable {
        /// Not started yet.
        case idle
        /// Running; a peer without any status by `statusDeadline` is dropped.
        case running(statusDeadline: Double)
        /// Disconnected or stopped: events are ignored.
        case ended
    }

    let configuration: Configuration
    /// The protocols both sides speak, in ``MailProtocol`` order; relays go out on the last.
    public let protocols: [MailProtocol]
    var phase: Phase = .idle
    /// The peer's status on each protocol, once it sent one.
    public private(set) var peers: [MailProtocol: PeerState] = [:]

    /// A machine for a peer that shares `protocols` with us.
    public init(protocols: [MailProtocol], configuration: Configuration) {
        self.protocols = protocols
        self.configuration = configuration
    }

    /// True once the session ended.
    public var hasEnded: Bool { phase == .ended }

    /// When a peer that sent no status yet is dropped (nil once one arrived, or the session ended).
    public var statusDeadline: Double? {
        guard case .running(let deadline) = phase, peers.isEmpty else { return nil }
        return deadline
    }

    /// Handles one event at UNIX time `now`.
    public mutating func handle(_ event: Event, now: Double) -> [Action] {
        if phase == .ended { return [] }
        let actions: [Action]
        switch event {
        case .start:
            actions = start(now: now)
        case .message(let message):
            guard case .running = phase else { return [] }
            actions = receive(message, now: now)
        case .stored(let job, let result):
            actions = stored(job, result)
        case .answered(let job, let outcome):
            actions = answered(job, outcome, now: now)
        case .tick:
            if let deadline = statusDeadline, now >= deadline {
                actions = [.disconnect(.readTimeout, log: nil)]
            } else {
                actions = []
            }
        }
        if actions.contains(where: \.endsSession) { phase = .ended }
        return actions
    }

    /// The envelopes of a batch stored by another peer that this peer wants.
    public func wanted(_ envelopes: [AcceptedEnvelope]) -> [Envelope] {
        envelopes.filter { e in peers.values.contains { $0.wants(e.envelope, pow: e.pow) } }.map(\.envelope)
    }

    /// The code-1 message relaying `envelopes`, on the newest shared protocol.
    public func relayMessage(_ envelopes: [Envelope]) -> RLPxMessage {
        let proto = protocols.last ?? .whisper
        return RLPxMessage(
            capability: proto.capabilityName,
            code: MailCode.messages,
            payload: Envelope.encodeList(envelopes.map(\.rlp))
        )
    }

    // MARK: - Status

    mutating func start(now: Double) -> [Action] {
        guard case .idle = phase else { return [] }
        guard !protocols.isEmpty else { return [.disconnect(.uselessPeer, log: nil)] }
        phase = .running(statusDeadline: now + configuration.statusTimeout)
        return protocols.map { .send(RLPxMessage(capability: $0.capabilityName, code: MailCode.status, payload: ownStatus($0))) }
    }

    /// Our status: full node, every topic, confirmations on.
    func ownStatus(_ proto: MailProtocol) -> [UInt8] {
        switch proto {
        case .whisper:
            return WhisperStatus(pow: configuration.minPoW, bloom: .full, lightNode: false, confirmationsEnabled: true).encoded
        case .waku:
            return WakuStatus(pow: configuration.minPoW, bloom: .full, lightNode: false, confirmationsEnabled: true).encoded
        }
    }

    mutating func applyStatus(_ payload: [UInt8], _ proto: MailProtocol) throws(WhisperError) {
        switch proto {
        case .whisper:
            let s = try WhisperStatus(payload: payload)
            peers[proto, default: PeerState()].apply(s)
        case .waku:
            let s = try WakuStatus(payload: payload)
            var p = peers[proto] ?? PeerState()
            if peers[proto] == nil { p.pow = WakuStatus.defaultPoW }
            p.apply(s)
            peers[proto] = p
        }
    }

    // MARK: - Messages

    mutating func receive(_ message: RLPxMessage, now: Double) -> [Action] {
        guard let proto = MailProtocol(capabilityName: message.capability) else { return [] }
        let bytesIn = Action.count("whisper_archive_bytes_in_total", by: Double(message.payload.count))
        guard peers[proto] != nil else {
            guard message.code == MailCode.status else {
                return [bytesIn, .disconnect(.protocolError, log: "sent packet before status packet; disconnecting")]
            }
            do { try applyStatus(message.payload, proto) } catch {
                return [bytesIn, .disconnect(.protocolError, log: "bad status: \(error)")]
            }
            return [bytesIn]
        }
        switch message.code {
        case MailCode.messages:
            return [bytesIn] + receiveEnvelopes(message.payload, proto, now: now)
        case MailCode.powRequirement where proto == .whisper:
            guard let pow = try? WhisperStatus.powRequirement(payload: message.payload) else {
                return [bytesIn, .disconnect(.protocolError, log: nil)]
            }
            peers[proto]?.pow = pow
        case MailCode.bloomFilter where proto == .whisper:
            guard let bloom = try? WhisperStatus.bloomFilter(payload: message.payload) else {
                return [bytesIn, .disconnect(.protocolError, log: nil)]
            }
            peers[proto]?.bloom = bloom
        case MailCode.statusUpdate where proto == .waku:
            do { try applyStatus(message.payload, proto) } catch {
                return [bytesIn, .disconnect(.protocolError, log: nil)]
            }
        case SyncCode.request where proto == .whisper:
            return [bytesIn] + receiveSyncRequest(message.payload, now: now)
        case MailCode.p2pRequest:
            return [
                bytesIn, .count("mailserver_delivery_attempts_total", by: 1),
                .query(RequestJob(payload: message.payload, proto: proto, received: now)),
            ]
        default:
            break  // A later status, 0x7d/0x7f from a peer we never asked (untrusted), unknown codes: ignored.
        }
        return [bytesIn]
    }

    /// Code 1: the receive checks; the accepted envelopes go to the archive before anything is confirmed.
    func receiveEnvelopes(_ payload: [UInt8], _ proto: MailProtocol, now: Double) -> [Action] {
        let envelopes: [Envelope]
        do {
            envelopes = try Envelope.decodeBatch(payload)
        } catch {
            return [
                .count("\(proto.metricPrefix)_envelopes_rejected_total{reason=\"invalid_data\"}", by: 1),
                .disconnect(.protocolError, log: "undecodable messages packet; disconnecting"),
            ]
        }
        let seconds = UInt32(truncatingIfNeeded: Int(now))
        let policy = ReceivePolicy(minPoW: configuration.minPoW, maxMessageSize: configuration.maxMessageSize, bloom: .full)
        var actions: [Action] = []
        var job = StoreJob(
            proto: proto,
            accepted: [],
            arrival: seconds,
            errors: [],
            batchHash: peers[proto]?.confirmations == true ? BatchAcknowledgement(batchPayload: payload).batchHash : nil
        )
        for e in envelopes {
            actions.append(.count("\(proto.metricPrefix)_envelopes_received_total", by: 1))
            switch policy.check(e, now: seconds) {
            case .accept(let pow):
                actions.append(.count("\(proto.metricPrefix)_envelopes_validated_total", by: 1))
                job.accepted.append(AcceptedEnvelope(envelope: e, pow: pow))
            case .dropSilently:
                actions.append(.count("\(proto.metricPrefix)_envelopes_cache_failures_total{type=\"expired\"}", by: 1))
                continue
            case .reject(let reason, let timeSync, let kind):
                actions.append(.count("\(proto.metricPrefix)_envelopes_cache_failures_total{type=\"\(kind.rawValue)\"}", by: 1))
                job.errors.append(.init(hash: e.hash, code: proto.envelopeErrorCode(timeNotSynced: timeSync), description: reason))
                if !timeSync { job.fatal = reason }
            }
        }
        if job.accepted.isEmpty { return actions + confirm(job, stored: true) }
        return actions + [.store(job)]
    }

    func stored(_ job: StoreJob, _ result: StoreResult) -> [Action] {
        var job = job
        switch result {
        case .stored(let added):
            var actions: [Action] = [
                .count("\(job.proto.metricPrefix)_envelopes_cached_total{cache=\"miss\"}", by: Double(added)),
                .count("\(job.proto.metricPrefix)_envelopes_cached_total{cache=\"hit\"}", by: Double(job.accepted.count - added)),
            ]
            if added > 0 { actions.append(.relay(job.accepted)) }
            return actions + confirm(job, stored: true)
        case .failed:
            let code = job.proto.envelopeErrorCode(timeNotSynced: false)
            job.errors += job.accepted.map { .init(hash: $0.envelope.hash, code: code, description: "archive failure") }
            return [.count("mailserver_archived_envelopes_failures_total", by: 1), .count(Self.storeErrors, by: 1)]
                + confirm(job, stored: false)
        }
    }

    /// The message response (when something was rejected) and the acknowledgement (when stored), for a peer that
    /// enabled confirmations; then the end of the session when a rejection was fatal.
    func confirm(_ job: StoreJob, stored: Bool) -> [Action] {
        var actions: [Action] = []
        let capability = job.proto.capabilityName
        if let hash = job.batchHash {
            if !job.errors.isEmpty {
                let response = MessageResponse(batchHash: hash, errors: job.errors)
                actions.append(.send(RLPxMessage(capability: capability, code: MailCode.messageResponse, payload: response.encoded)))
            }
            if stored {
                let ack = BatchAcknowledgement(batchHash: hash)
                actions.append(.send(RLPxMessage(capability: capability, code: MailCode.batchAcknowledged, payload: ack.encoded)))
            }
        }
        if let fatal = job.fatal { actions.append(.disconnect(.protocolError, log: "rejected envelope: \(fatal); disconnecting")) }
        return actions
    }

    // MARK: - Sync (code 123, whisper §5.9)

    /// The sync failures counter with status-go's name.
    static let syncFailures = "mailserver_sync_failures_total"

    /// A sync request: answered for a trusted peer whose request is valid; otherwise the error response, which
    /// ends nothing (the partner may ask again).
    func receiveSyncRequest(_ payload: [UInt8], now: Double) -> [Action] {
        var actions: [Action] = [.count("mailserver_sync_attempts_total", by: 1)]
        func refuse(_ type: String, _ error: String) -> [Action] {
            let response = SyncResponse(error: error)
            return actions + [
                .count("\(Self.syncFailures){type=\"\(type)\"}", by: 1),
                .send(RLPxMessage(capability: MailProtocol.whisper.capabilityName, code: SyncCode.response, payload: response.encoded)),
            ]
        }
        guard configuration.trusted else { return refuse("untrusted", "sync requests are answered only for trusted peers") }
        let request: SyncRequest
        do { request = try SyncRequest(payload: payload) } catch { return refuse("validation", "invalid sync request: \(error)") }
        if let why = request.invalidity { return refuse("validation", why) }
        actions.append(.sync(SyncJob(request: request, received: now)))
        return actions
    }

    // MARK: - Requests

    /// Failed store calls (appends and queries): how long and how often the archive was unavailable.
    static let storeErrors = "whisper_archive_store_errors_total"

    func answered(_ job: RequestJob, _ outcome: RequestOutcome, now: Double) -> [Action] {
        let failures = "mailserver_delivery_failures_total"
        if outcome.invalid {
            return [
                .count("\(failures){type=\"validation\"}", by: 1),
                .disconnect(.protocolError, log: "invalid p2p request; disconnecting"),
            ]
        }
        var actions: [Action] = []
        if outcome.storeFailed {
            // status-go's type for a query the database failed; the outage counter beside it.
            actions.append(.count("\(failures){type=\"iterator\"}", by: 1))
            actions.append(.count(Self.storeErrors, by: 1))
        } else if outcome.failure != nil {
            actions.append(.count("\(failures){type=\"\(outcome.rateLimited ? "peer_req_limit" : "validation")\"}", by: 1))
        }
        guard outcome.delivered else { return actions + [.count("\(failures){type=\"historic_msg_resp\"}", by: 1), .stop] }
        return actions + [
            .count("whisper_archive_envelopes_sent_total", by: Double(outcome.envelopes)),
            .observeRequest(seconds: now - job.received),
        ]
    }
}
