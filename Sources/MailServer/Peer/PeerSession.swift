import ArchiveStore
import DevP2P
import EthCrypto
import Logging
import NIOConcurrencyHelpers
import Whisper

/// One connected peer of a mailserver: the async driver of a ``PeerStateMachine``.
///
/// It feeds the machine the peer's messages, the archive's answers and the status timer, and carries out the
/// actions it returns: sends, stores, history queries, relays, metrics and the disconnect.
final class PeerSession: Sendable {
    let peer: RLPxPeer
    let node: MailServerNode
    let machine: NIOLockedValueBox<PeerStateMachine>
    let relayQueue: AsyncStream<[Envelope]>
    let relayContinuation: AsyncStream<[Envelope]>.Continuation
    let peerID: String

    init(peer: RLPxPeer, node: MailServerNode) {
        self.peer = peer
        self.node = node
        let protocols = MailProtocol.allCases.filter { peer.version(of: $0.capabilityName) == $0.version }
        let c = node.configuration
        machine = NIOLockedValueBox(
            PeerStateMachine(
                protocols: protocols,
                configuration: .init(
                    minPoW: c.minPoW,
                    maxMessageSize: c.maxMessageSize,
                    trusted: c.trustedPeers.contains(peer.remotePublicKey)
                )
            )
        )
        (relayQueue, relayContinuation) = AsyncStream<[Envelope]>.makeStream(bufferingPolicy: .bufferingNewest(64))
        peerID = peer.remotePublicKey.nodeID.hex
    }

    var logger: Logger {
        var l = node.logger
        l[metadataKey: "peer"] = "0x\(peer.remotePublicKey.bytes.hex.prefix(16))"
        return l
    }

    /// Runs until the peer is gone.
    func run() async {
        // A status that cannot be sent ends the session.
        guard await perform(handle(.start), sendFailureEnds: true) else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.relayLoop() }
            group.addTask {
                await self.messageLoop()
                self.relayContinuation.finish()
            }
        }
    }

    /// Hands one event to the machine at the current time.
    func handle(_ event: PeerStateMachine.Event) -> [PeerStateMachine.Action] {
        let now = MailServerNode.now()
        return machine.withLockedValue { $0.handle(event, now: now) }
    }

    func messageLoop() async {
        let timer = Task { await self.statusTimer() }
        defer { timer.cancel() }
        for await message in peer.messages {
            guard await perform(handle(.message(message))) else { return }
        }
    }

    /// Ticks the machine at its status deadline until a status arrived or the peer was dropped.
    func statusTimer() async {
        while let deadline = machine.withLockedValue({ $0.statusDeadline }) {
            let wait = max(deadline - MailServerNode.now(), 0.01)
            do { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) } catch { return }
            guard await perform(handle(.tick)) else { return }
        }
    }

    /// Carries out `actions` in order, with the follow-up actions of stores and queries first; false once the
    /// session is over.
    func perform(_ actions: [PeerStateMachine.Action], sendFailureEnds: Bool = false) async -> Bool {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .send(let message):
                do { try await peer.send(message) } catch {
                    if sendFailureEnds { return false }
                }
            case .store(let job):
                queue = handle(.stored(job, await store(job)))[...] + queue
            case .query(let job):
                queue = handle(.answered(job, await answer(job)))[...] + queue
            case .sync(let job):
                await answerSync(job)
            case .relay(let accepted):
                node.relay(accepted, from: self)
            case .count(let name, let amount):
                node.metrics.increment(name, by: amount)
            case .observeRequest(let seconds):
                node.metrics.record("mailserver_delivery_duration_seconds", seconds)
            case .disconnect(let reason, let log):
                if let log { logger.info("dropping the peer", metadata: ["reason": "\(log)"]) }
                await peer.disconnect(reason: reason)
                return false
            case .stop:
                return false
            }
        }
        return true
    }

    /// Appends a batch to the archive (durable before it returns).
    func store(_ job: PeerStateMachine.StoreJob) async -> PeerStateMachine.StoreResult {
        do {
            let result = try await node.store.append(job.envelopes, arrivals: job.accepted.map { _ in job.arrival })
            recordArchivedSizes(job, result)
            return .stored(added: result.added)
        } catch {
            logger.error("archiving failed", metadata: ["error": "\(error)", "envelopes": "\(job.envelopes.count)"])
            return .failed
        }
    }

    /// `mailserver_archived_envelope_size_bytes`: each new envelope's RLP size; a batch that mixed new and known
    /// envelopes records the mean size of the new ones (the append reports their bytes, not which they were).
    func recordArchivedSizes(_ job: PeerStateMachine.StoreJob, _ result: AppendResult) {
        guard result.added > 0 else { return }
        if result.added == job.envelopes.count {
            for e in job.envelopes { node.metrics.record("mailserver_archived_envelope_size_bytes", Double(e.rlp.count)) }
        } else {
            let mean = Double(result.bytes) / Double(result.added)
            for _ in 0..<result.added { node.metrics.record("mailserver_archived_envelope_size_bytes", mean) }
        }
    }

    /// Answers a history request: the archive reads the page on this task while a second one sends each packet
    /// as soon as it is ready.
    func answer(_ job: PeerStateMachine.RequestJob) async -> PeerStateMachine.RequestOutcome {
        let metrics = node.metrics
        let (packets, queue) = AsyncStream.makeStream(of: RequestProcessor.Packet.self)
        let peer = self.peer
        let capability = job.proto.capabilityName
        let sender = Task { () -> Bool in
            var delivered = true
            for await packet in packets where delivered {
                do {
                    try await peer.send(capability: capability, code: packet.code, payload: packet.payload)
                } catch {
                    delivered = false
                    continue
                }
                metrics.increment("whisper_archive_bytes_out_total", by: Double(packet.payload.count))
                if packet.code == MailCode.p2pMessage {
                    metrics.increment("mailserver_requests_batched_total")
                    metrics.record("mailserver_sent_envelope_batch_size_bytes", Double(packet.payload.count))
                }
            }
            return delivered
        }
        let answer = await node.processor.handle(job.payload, from: peerID, on: job.proto, now: job.received) { queue.yield($0) }
        queue.finish()
        if let request = answer.request, answer.failure == nil || answer.storeFailed {
            // status-go's query shape: a topic list is a partial filter (a bloom filter a full one), a cursor a
            // partial history.
            let filter = (request.topics ?? []).isEmpty ? "full" : "partial"
            let history = request.cursor.isEmpty ? "full" : "partial"
            metrics.increment("mailserver_envelope_queries_total{filter=\"\(filter)\",history=\"\(history)\"}")
        }
        let delivered = await sender.value
        logRequest(answer, job: job, delivered: delivered)
        return .init(
            invalid: answer.disconnect,
            failure: answer.failure,
            rateLimited: answer.failure == RequestProcessor.rateLimitFailure,
            envelopes: answer.envelopes,
            delivered: delivered,
            storeFailed: answer.storeFailed
        )
    }

    /// One info line per request: answered (dialect, window, topics, count, milliseconds) or refused, with why.
    func logRequest(_ answer: RequestProcessor.Answer, job: PeerStateMachine.RequestJob, delivered: Bool) {
        var metadata: Logger.Metadata = [
            "proto": "\(job.proto.capabilityName)",
            "ms": "\(Int(((MailServerNode.now() - job.received) * 1000).rounded()))",
        ]
        if let id = answer.requestID { metadata["request"] = "0x\(id.hex.prefix(16))" }
        if let r = answer.request {
            metadata["dialect"] = "\(r.dialect.rawValue)"
            metadata["from"] = "\(r.lower)"
            metadata["to"] = "\(r.upper)"
            metadata["topics"] = (r.topics ?? []).isEmpty ? "bloom" : "\(r.topics!.count)"
            metadata["limit"] = "\(r.limit)"
            metadata["cursor"] = r.cursor.isEmpty ? "no" : "yes"
        }
        if let failure = answer.failure {
            metadata["reason"] = "\(failure)"
            logger.info("request refused", metadata: metadata)
        } else {
            metadata["count"] = "\(answer.envelopes)"
            if !delivered { metadata["delivered"] = "no" }
            logger.info("request answered", metadata: metadata)
        }
    }

    /// Answers a trusted partner's sync request (code 123) as status-go does: the page in code-124 bundles of about
    /// `bundleBytes`, then a final response with the next page's cursor (empty when none remains); a request over
    /// the rate limit, or a page the archive could not read, gets the error response instead.
    func answerSync(_ job: PeerStateMachine.SyncJob) async {
        let r = job.request
        let metrics = node.metrics
        let peer = self.peer
        let shh = MailProtocol.whisper.capabilityName
        @Sendable func send(_ response: SyncResponse) async -> Bool {
            let payload = response.encoded
            do { try await peer.send(capability: shh, code: SyncCode.response, payload: payload) } catch { return false }
            metrics.increment("whisper_archive_bytes_out_total", by: Double(payload.count))
            return true
        }
        guard node.processor.limiter.allow(peer: peerID, now: job.received) else {
            metrics.increment("\(PeerStateMachine.syncFailures){type=\"peer_req_limit\"}")
            _ = await send(SyncResponse(error: RequestProcessor.rateLimitFailure))
            return
        }
        let padded = r.bloom.count >= 64 ? Array(r.bloom.suffix(64)) : [UInt8](repeating: 0, count: 64 - r.bloom.count) + r.bloom
        let bloom = (try? Bloom(bytes: padded)) ?? .full
        let cursor = r.cursor.count >= Cursor.length ? try? Cursor(bytes: r.cursor.prefix(Cursor.length)) : nil
        let (bundles, queue) = AsyncStream.makeStream(of: [[UInt8]].self)
        let sender = Task { () -> Bool in
            var delivered = true
            for await bundle in bundles where delivered { delivered = await send(SyncResponse(envelopes: bundle)) }
            return delivered
        }
        let budget = node.configuration.bundleBytes
        var bundle: [[UInt8]] = []
        var size = 0
        var count = 0
        let page: QueryPage
        do {
            page = try await node.store.query(EnvelopeFilter(from: r.lower, to: r.upper, topics: .bloom(bloom)), limit: Int(r.limit), after: cursor) {
                envelope in
                if !bundle.isEmpty && size + envelope.rlp.count > budget {
                    queue.yield(bundle)
                    bundle = []
                    size = 0
                }
                bundle.append(envelope.rlp)
                size += envelope.rlp.count
                count += 1
            }
        } catch {
            queue.finish()
            _ = await sender.value
            metrics.increment("\(PeerStateMachine.syncFailures){type=\"process\"}")
            metrics.increment(PeerStateMachine.storeErrors)
            _ = await send(SyncResponse(error: "failed to process all envelopes"))
            logger.warning("sync request failed", metadata: ["error": "\(error)"])
            return
        }
        if !bundle.isEmpty { queue.yield(bundle) }
        queue.finish()
        guard await sender.value else { return }
        _ = await send(SyncResponse(cursor: page.cursor?.bytes ?? [], final: true))
        logger.info(
            "sync request answered",
            metadata: [
                "from": "\(r.lower)", "to": "\(r.upper)", "limit": "\(r.limit)", "count": "\(count)",
                "cursor": r.cursor.isEmpty ? "no" : "yes",
                "ms": "\(Int(((MailServerNode.now() - job.received) * 1000).rounded()))",
            ]
        )
    }

    /// Queues the envelopes of another peer's batch that this peer wants.
    func enqueueRelay(_ envelopes: [PeerStateMachine.AcceptedEnvelope]) {
        let wanted = machine.withLockedValue { $0.wanted(envelopes) }
        if !wanted.isEmpty { relayContinuation.yield(wanted) }
    }

    func relayLoop() async {
        for await batch in relayQueue {
            let message = machine.withLockedValue { $0.relayMessage(batch) }
            do {
                try await peer.send(message)
                node.metrics.increment("whisper_archive_bytes_out_total", by: Double(message.payload.count))
            } catch {
                return
            }
        }
    }
}
