import DevP2P
import EthCrypto
import MailServer
import Testing
import Whisper

/// The shh/6 and waku/1 peer rules driven by events alone, on virtual time: no sockets, no archive, no clock.
@Suite("Peer state machine")
struct PeerStateMachineTests {
    typealias Machine = PeerStateMachine
    static let t0 = 1_700_000_000.0
    static let topic = Topic(rawValue: 0xF26E_7779)

    static func machine(
        _ protocols: [MailProtocol] = [.whisper],
        minPoW: Double = 0,
        maxMessageSize: Int = 1 << 20
    )
        -> Machine
    {
        Machine(protocols: protocols, configuration: .init(minPoW: minPoW, maxMessageSize: maxMessageSize))
    }

    /// A machine past the status exchange on `proto`, the peer asking for confirmations or not.
    static func running(_ proto: MailProtocol, confirmations: Bool, maxMessageSize: Int = 1 << 20) -> Machine {
        var m = machine([proto], maxMessageSize: maxMessageSize)
        _ = m.handle(.start, now: t0)
        let status =
            proto == .whisper
            ? WhisperStatus(pow: 0, bloom: .full, lightNode: true, confirmationsEnabled: confirmations).encoded
            : WakuStatus(pow: 0, confirmationsEnabled: confirmations).encoded
        let actions = m.handle(.message(message(proto, MailCode.status, status)), now: t0 + 1)
        #expect(!actions.contains { $0.endsSession })
        return m
    }

    static func message(_ proto: MailProtocol, _ code: UInt64, _ payload: [UInt8]) -> RLPxMessage {
        RLPxMessage(capability: proto.capabilityName, code: code, payload: payload)
    }

    static func fresh(_ nonce: UInt64, at now: Double = t0 + 2, size: Int = 64) -> Envelope {
        Envelope(expiry: UInt32(now) + 100, ttl: 100, topic: topic, data: [UInt8](repeating: UInt8(nonce), count: size), nonce: nonce)
    }

    /// Sent 400 s from now: beyond the 10 s allowance, a time-sync error.
    static func future(_ nonce: UInt64, at now: Double = t0 + 2) -> Envelope {
        Envelope(expiry: UInt32(now) + 500, ttl: 100, topic: topic, data: [7, 7, 7], nonce: nonce)
    }

    static func sends(_ actions: [Machine.Action]) -> [RLPxMessage] {
        actions.compactMap { action -> RLPxMessage? in
            if case .send(let m) = action { return m }
            return nil
        }
    }

    static func storeJob(_ actions: [Machine.Action]) -> Machine.StoreJob? {
        for case .store(let job) in actions { return job }
        return nil
    }

    static func queryJob(_ actions: [Machine.Action]) -> Machine.RequestJob? {
        for case .query(let job) in actions { return job }
        return nil
    }

    /// The code-12 response listing `errors` for the batch `payload`, then its code-11 acknowledgement when `stored`.
    static func confirmation(
        _ proto: MailProtocol,
        batch payload: [UInt8],
        errors: [MessageResponse.EnvelopeError],
        stored: Bool
    ) -> [RLPxMessage] {
        let hash = Keccak256.hash(payload)
        var out = [message(proto, MailCode.messageResponse, MessageResponse(batchHash: hash, errors: errors).encoded)]
        if stored { out.append(message(proto, MailCode.batchAcknowledged, BatchAcknowledgement(batchHash: hash).encoded)) }
        return out
    }

    static func relays(_ actions: [Machine.Action]) -> Bool {
        for case .relay in actions { return true }
        return false
    }

    // MARK: - Status first

    @Test("our status goes out first on every shared protocol")
    func statusOnEveryProtocol() {
        var m = Self.machine([.whisper, .waku], minPoW: 0.002)
        let actions = m.handle(.start, now: Self.t0)
        #expect(
            actions == [
                .send(
                    Self.message(
                        .whisper,
                        MailCode.status,
                        WhisperStatus(pow: 0.002, bloom: .full, lightNode: false, confirmationsEnabled: true).encoded
                    )
                ),
                .send(
                    Self.message(
                        .waku,
                        MailCode.status,
                        WakuStatus(pow: 0.002, bloom: .full, lightNode: false, confirmationsEnabled: true).encoded
                    )
                ),
            ]
        )
    }

    @Test("a peer sharing no protocol is useless")
    func noSharedProtocol() {
        var m = Self.machine([])
        #expect(m.handle(.start, now: Self.t0) == [.disconnect(.uselessPeer, log: nil)])
        #expect(m.hasEnded)
    }

    @Test("anything before the status disconnects, and the session then ignores every event")
    func statusFirstOrDisconnect() {
        var m = Self.machine()
        _ = m.handle(.start, now: Self.t0)
        let payload = Envelope.encodeList([Self.fresh(1).rlp])
        let actions = m.handle(.message(Self.message(.whisper, MailCode.messages, payload)), now: Self.t0 + 1)
        #expect(actions.last == .disconnect(.protocolError, log: "sent packet before status packet; disconnecting"))
        #expect(Self.storeJob(actions) == nil)
        #expect(m.hasEnded)
        #expect(m.handle(.message(Self.message(.whisper, MailCode.status, WhisperStatus(pow: 0).encoded)), now: Self.t0 + 2).isEmpty)
        #expect(m.handle(.tick, now: Self.t0 + 100).isEmpty)
    }

    @Test("an undecodable status disconnects")
    func badStatus() {
        var m = Self.machine([.waku])
        _ = m.handle(.start, now: Self.t0)
        let actions = m.handle(.message(Self.message(.waku, MailCode.status, [0x01])), now: Self.t0 + 1)
        guard case .disconnect(.protocolError, let log)? = actions.last else {
            Issue.record("no disconnect: \(actions)")
            return
        }
        #expect(log?.hasPrefix("bad status") == true)
    }

    @Test("no status within the timeout: dropped at the deadline, not before")
    func statusTimeout() {
        var m = Self.machine()
        _ = m.handle(.start, now: Self.t0)
        #expect(m.statusDeadline == Self.t0 + 10)
        #expect(m.handle(.tick, now: Self.t0 + 9.9).isEmpty)
        #expect(m.handle(.tick, now: Self.t0 + 10) == [.disconnect(.readTimeout, log: nil)])

        var answered = Self.running(.whisper, confirmations: false)
        #expect(answered.statusDeadline == nil)
        #expect(answered.handle(.tick, now: Self.t0 + 60).isEmpty)
        #expect(!answered.hasEnded)
    }

    @Test("a message on a capability that is not ours is ignored")
    func foreignCapability() {
        var m = Self.machine()
        _ = m.handle(.start, now: Self.t0)
        #expect(m.handle(.message(RLPxMessage(capability: "eth", code: 1, payload: [0xC0])), now: Self.t0 + 1).isEmpty)
        #expect(!m.hasEnded)
    }

    // MARK: - Confirmations

    @Test(
        "confirmations: the acknowledgement only once the store acknowledged; a time-sync error is reported",
        arguments: MailProtocol.allCases
    )
    func confirmationAfterStore(proto: MailProtocol) throws {
        var m = Self.running(proto, confirmations: true)
        let good = [Self.fresh(1), Self.fresh(2)]
        let late = Self.future(3)
        let payload = Envelope.encodeList((good + [late]).map(\.rlp))
        let now = Self.t0 + 2
        let received = m.handle(.message(Self.message(proto, MailCode.messages, payload)), now: now)
        #expect(Self.sends(received).isEmpty, "nothing is confirmed before the store answered")
        let job = try #require(Self.storeJob(received))
        #expect(job.envelopes == good)
        #expect(job.arrival == UInt32(now))
        let prefix = proto.metricPrefix
        #expect(received.filter { $0 == .count("\(prefix)_envelopes_received_total", by: 1) }.count == 3)
        #expect(received.filter { $0 == .count("\(prefix)_envelopes_validated_total", by: 1) }.count == 2)
        #expect(received.contains(.count("\(prefix)_envelopes_cache_failures_total{type=\"in_future\"}", by: 1)))

        let after = m.handle(.stored(job, .stored(added: 2)), now: now + 0.5)
        #expect(after.contains(.relay(job.accepted)))
        #expect(after.contains(.count("\(prefix)_envelopes_cached_total{cache=\"miss\"}", by: 2)))
        #expect(after.contains(.count("\(prefix)_envelopes_cached_total{cache=\"hit\"}", by: 0)))
        let error = MessageResponse.EnvelopeError(
            hash: late.hash,
            code: proto.envelopeErrorCode(timeNotSynced: true),
            description: "envelope from future: sent \(late.sentTime), now \(UInt32(now))"
        )
        #expect(Self.sends(after) == Self.confirmation(proto, batch: payload, errors: [error], stored: true))
        #expect(!m.hasEnded, "a time-sync error does not disconnect")
    }

    @Test("confirmations: a failed store is reported for each envelope and never acknowledged")
    func failedStoreIsNotAcknowledged() throws {
        var m = Self.running(.whisper, confirmations: true)
        let good = [Self.fresh(1), Self.fresh(2)]
        let payload = Envelope.encodeList(good.map(\.rlp))
        let job = try #require(Self.storeJob(m.handle(.message(Self.message(.whisper, MailCode.messages, payload)), now: Self.t0 + 2)))
        let after = m.handle(.stored(job, .failed), now: Self.t0 + 3)
        let errors = good.map { MessageResponse.EnvelopeError(hash: $0.hash, code: .whisperOther, description: "archive failure") }
        #expect(Self.sends(after) == Self.confirmation(.whisper, batch: payload, errors: errors, stored: false))
        #expect(after.contains(.count("mailserver_archived_envelopes_failures_total", by: 1)))
        #expect(after.contains(.count("whisper_archive_store_errors_total", by: 1)))
        #expect(!Self.relays(after))
    }

    @Test("without confirmations nothing is sent back, and a duplicate batch is not relayed")
    func noConfirmations() throws {
        var m = Self.running(.whisper, confirmations: false)
        let payload = Envelope.encodeList([Self.fresh(1).rlp, Self.future(2).rlp])
        let job = try #require(Self.storeJob(m.handle(.message(Self.message(.whisper, MailCode.messages, payload)), now: Self.t0 + 2)))
        let after = m.handle(.stored(job, .stored(added: 0)), now: Self.t0 + 3)
        #expect(Self.sends(after).isEmpty)
        #expect(!Self.relays(after))
    }

    @Test(
        "a batch with nothing to store is answered at once; a fatal rejection then disconnects",
        arguments: MailProtocol.allCases
    )
    func fatalRejection(proto: MailProtocol) {
        var m = Self.running(proto, confirmations: true, maxMessageSize: 100)
        let huge = Self.fresh(1, size: 200)
        let payload = Envelope.encodeList([huge.rlp])
        let actions = m.handle(.message(Self.message(proto, MailCode.messages, payload)), now: Self.t0 + 2)
        #expect(Self.storeJob(actions) == nil)
        let reason = "huge messages are not allowed: \(huge.size) > 100"
        let error = MessageResponse.EnvelopeError(
            hash: huge.hash,
            code: proto.envelopeErrorCode(timeNotSynced: false),
            description: reason
        )
        #expect(Self.sends(actions) == Self.confirmation(proto, batch: payload, errors: [error], stored: true))
        #expect(actions.last == .disconnect(.protocolError, log: "rejected envelope: \(reason); disconnecting"))
        #expect(m.hasEnded)
    }

    @Test("waku and shh name their error codes apart")
    func wakuVersusShhCodes() {
        #expect(MailProtocol.whisper.envelopeErrorCode(timeNotSynced: true).rawValue == 37)
        #expect(MailProtocol.whisper.envelopeErrorCode(timeNotSynced: false).rawValue == 38)
        #expect(MailProtocol.waku.envelopeErrorCode(timeNotSynced: true).rawValue == 21)
        #expect(MailProtocol.waku.envelopeErrorCode(timeNotSynced: false).rawValue == 22)
    }

    // MARK: - Requests, rate limit, trust

    @Test("a rate-limited request is refused without a disconnect, and the next one is still answered")
    func rateLimitedRequest() throws {
        var m = Self.running(.whisper, confirmations: false)
        let request = Self.message(.whisper, MailCode.p2pRequest, [0xC0])
        let first = m.handle(.message(request), now: Self.t0 + 5)
        #expect(first.contains(.count("mailserver_delivery_attempts_total", by: 1)))
        let job = try #require(Self.queryJob(first))
        #expect(job == Machine.RequestJob(payload: [0xC0], proto: .whisper, received: Self.t0 + 5))
        let refused = m.handle(
            .answered(job, .init(failure: RequestProcessor.rateLimitFailure, rateLimited: true)),
            now: Self.t0 + 5.25
        )
        #expect(
            refused == [
                .count("mailserver_delivery_failures_total{type=\"peer_req_limit\"}", by: 1),
                .count("whisper_archive_envelopes_sent_total", by: 0),
                .observeRequest(seconds: 0.25),
            ]
        )
        #expect(!m.hasEnded)
        #expect(Self.queryJob(m.handle(.message(request), now: Self.t0 + 6)) != nil)
    }

    @Test("the limiter refuses a second request within the interval, on virtual time")
    func rateLimiterOnVirtualTime() {
        let limiter = RateLimiter(interval: 30)
        #expect(limiter.allow(peer: "a", now: Self.t0))
        #expect(!limiter.allow(peer: "a", now: Self.t0 + 29.9))
        #expect(limiter.allow(peer: "b", now: Self.t0 + 29.9))
        #expect(limiter.allow(peer: "a", now: Self.t0 + 30))
    }

    @Test("a refused request stays; a payload that is no request disconnects; a failed delivery stops")
    func requestOutcomes() throws {
        var refused = Self.running(.waku, confirmations: false)
        let job = try #require(Self.queryJob(refused.handle(.message(Self.message(.waku, MailCode.p2pRequest, [1])), now: Self.t0 + 2)))
        #expect(
            refused.handle(.answered(job, .init(failure: "bloom filter is empty")), now: Self.t0 + 3).first
                == .count("mailserver_delivery_failures_total{type=\"validation\"}", by: 1)
        )
        #expect(!refused.hasEnded)
        // A query the store failed: status-go's "iterator" type and the outage counter, not "validation".
        let failedStore = refused.handle(.answered(job, .init(failure: "failed to process the request: down", storeFailed: true)), now: Self.t0 + 4)
        #expect(
            Array(failedStore.prefix(2)) == [
                .count("mailserver_delivery_failures_total{type=\"iterator\"}", by: 1),
                .count("whisper_archive_store_errors_total", by: 1),
            ]
        )
        #expect(!refused.hasEnded)

        var invalid = Self.running(.waku, confirmations: false)
        _ = invalid.handle(.message(Self.message(.waku, MailCode.p2pRequest, [1])), now: Self.t0 + 2)
        #expect(
            invalid.handle(.answered(job, .init(invalid: true, failure: "invalid p2p request")), now: Self.t0 + 3) == [
                .count("mailserver_delivery_failures_total{type=\"validation\"}", by: 1),
                .disconnect(.protocolError, log: "invalid p2p request; disconnecting"),
            ]
        )

        var gone = Self.running(.waku, confirmations: false)
        _ = gone.handle(.message(Self.message(.waku, MailCode.p2pRequest, [1])), now: Self.t0 + 2)
        #expect(
            gone.handle(.answered(job, .init(envelopes: 3, delivered: false)), now: Self.t0 + 3) == [
                .count("mailserver_delivery_failures_total{type=\"historic_msg_resp\"}", by: 1), .stop,
            ]
        )
        #expect(gone.hasEnded)
    }

    @Test("an untrusted peer: its requests are answered, its 0x7f and 0x7d are ignored", arguments: MailProtocol.allCases)
    func untrustedPeer(proto: MailProtocol) {
        var m = Self.running(proto, confirmations: true)
        for code in [MailCode.p2pMessage, MailCode.p2pRequestComplete] {
            let payload = Envelope.encodeList([Self.fresh(1).rlp])
            #expect(
                m.handle(.message(Self.message(proto, code, payload)), now: Self.t0 + 2)
                    == [.count("whisper_archive_bytes_in_total", by: Double(payload.count))]
            )
        }
        #expect(Self.queryJob(m.handle(.message(Self.message(proto, MailCode.p2pRequest, [0xC0])), now: Self.t0 + 3)) != nil)
    }

    // MARK: - Relay filter

    @Test("shh/6 PoW and bloom updates, waku/1 status updates change what is relayed; each only on its protocol")
    func relayFilter() throws {
        let e = Machine.AcceptedEnvelope(envelope: Self.fresh(1), pow: 0.5)
        var shh = Self.running(.whisper, confirmations: false)
        #expect(shh.wanted([e]) == [e.envelope])
        _ = shh.handle(.message(Self.message(.whisper, MailCode.powRequirement, [0x88, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0])), now: Self.t0 + 2)
        #expect(shh.wanted([e]).isEmpty, "PoW 0.5 is under the peer's new requirement of 1")
        #expect(
            shh.handle(.message(Self.message(.whisper, MailCode.bloomFilter, [0x80])), now: Self.t0 + 3).last
                == .disconnect(.protocolError, log: nil)
        )

        var waku = Self.running(.waku, confirmations: false)
        // Code 2 is not part of waku/1: ignored.
        _ = waku.handle(.message(Self.message(.waku, MailCode.powRequirement, [0x88, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0])), now: Self.t0 + 2)
        #expect(waku.wanted([e]) == [e.envelope])
        _ = waku.handle(
            .message(Self.message(.waku, MailCode.statusUpdate, WakuStatus(topicInterest: [Topic(rawValue: 1)]).encoded)),
            now: Self.t0 + 3
        )
        #expect(waku.wanted([e]).isEmpty, "the topic interest excludes the envelope's topic")
        #expect(waku.relayMessage([e.envelope]) == Self.message(.waku, MailCode.messages, Envelope.encodeList([e.envelope.rlp])))
    }

    @Test("a waku peer that omits its PoW gets the waku default of 0.001")
    func wakuDefaultPoW() {
        var m = Self.machine([.waku])
        _ = m.handle(.start, now: Self.t0)
        _ = m.handle(.message(Self.message(.waku, MailCode.status, WakuStatus().encoded)), now: Self.t0 + 1)
        #expect(m.peers[.waku]?.pow == WakuStatus.defaultPoW)
        #expect(m.wanted([.init(envelope: Self.fresh(1), pow: 0.0005)]).isEmpty)
    }
}
