import ArchiveStore
import DevP2P
import EthCrypto
import Logging
import NIOConcurrencyHelpers
import RLP
import Whisper

/// One connected peer of a mailserver: status exchange, then the message loop.
final class PeerSession: Sendable {
    let peer: RLPxPeer
    let node: MailServerNode
    let protocols: [MailProtocol]
    let state = NIOLockedValueBox<[MailProtocol: PeerState]>([:])
    let relayQueue: AsyncStream<[Envelope]>
    let relayContinuation: AsyncStream<[Envelope]>.Continuation
    let peerID: String

    init(peer: RLPxPeer, node: MailServerNode) {
        self.peer = peer
        self.node = node
        self.protocols = MailProtocol.allCases.filter { peer.version(of: $0.capabilityName) == $0.version }
        (relayQueue, relayContinuation) = AsyncStream<[Envelope]>.makeStream(bufferingPolicy: .bufferingNewest(64))
        peerID = peer.remotePublicKey.nodeID.hex
    }

    var logger: Logger {
        var l = node.logger
        l[metadataKey: "peer"] = "\(peer.remotePublicKey.bytes.hex.prefix(16))"
        return l
    }

    /// Runs until the peer is gone.
    func run() async {
        guard let primary = protocols.last else {
            await peer.disconnect(reason: .uselessPeer)
            return
        }
        _ = primary
        for proto in protocols {
            do { try await peer.send(capability: proto.capabilityName, code: MailCode.status, payload: ownStatus(proto)) } catch {
                return
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.relayLoop() }
            group.addTask {
                await self.messageLoop()
                self.relayContinuation.finish()
            }
        }
    }

    func ownStatus(_ proto: MailProtocol) -> [UInt8] {
        let c = node.configuration
        switch proto {
        case .whisper:
            return WhisperStatus(pow: c.minPoW, bloom: .full, lightNode: false, confirmationsEnabled: true).encoded
        case .waku:
            return WakuStatus(pow: c.minPoW, bloom: .full, lightNode: false, confirmationsEnabled: true).encoded
        }
    }

    /// Seconds a peer has to send its status before it is dropped.
    static let statusTimeout: UInt64 = 10

    func messageLoop() async {
        var statusSeen = Set<MailProtocol>()
        let gotStatus = NIOLockedValueBox(false)
        let peer = self.peer
        let deadline = Task {
            try? await Task.sleep(nanoseconds: PeerSession.statusTimeout * 1_000_000_000)
            if !Task.isCancelled && !gotStatus.withLockedValue({ $0 }) { await peer.disconnect(reason: .readTimeout) }
        }
        defer { deadline.cancel() }
        for await message in peer.messages {
            guard let proto = MailProtocol(capabilityName: message.capability) else { continue }
            node.metrics.increment("whisper_archive_bytes_in_total", by: Double(message.payload.count))
            if !statusSeen.contains(proto) {
                guard message.code == MailCode.status else {
                    logger.info("sent packet before status packet; disconnecting")
                    await peer.disconnect(reason: .protocolError)
                    return
                }
                do { try applyStatus(message.payload, proto) } catch {
                    logger.info("bad status: \(error)")
                    await peer.disconnect(reason: .protocolError)
                    return
                }
                statusSeen.insert(proto)
                gotStatus.withLockedValue { $0 = true }
                continue
            }
            let keepGoing = await handle(message, proto)
            if !keepGoing { return }
        }
    }

    func applyStatus(_ payload: [UInt8], _ proto: MailProtocol) throws(WhisperError) {
        switch proto {
        case .whisper:
            let s = try WhisperStatus(payload: payload)
            state.withLockedValue { $0[proto, default: PeerState()].apply(s) }
        case .waku:
            let s = try WakuStatus(payload: payload)
            state.withLockedValue { st in
                var p = st[proto] ?? PeerState()
                if st[proto] == nil { p.pow = WakuStatus.defaultPoW }
                p.apply(s)
                st[proto] = p
            }
        }
    }

    /// Handles one message after the status exchange; false ends the session.
    func handle(_ message: RLPxMessage, _ proto: MailProtocol) async -> Bool {
        switch message.code {
        case MailCode.messages:
            return await receiveEnvelopes(message.payload, proto)
        case MailCode.powRequirement where proto == .whisper:
            var r = RLPReader(message.payload)
            guard let bits = try? r.readUInt64(), let pow = try? decodePoW(bits) else {
                await peer.disconnect(reason: .protocolError)
                return false
            }
            state.withLockedValue { $0[proto, default: PeerState()].pow = pow }
        case MailCode.bloomFilter where proto == .whisper:
            var r = RLPReader(message.payload)
            guard let bytes = try? r.readBytes(), let bloom = try? Bloom(bytes: bytes) else {
                await peer.disconnect(reason: .protocolError)
                return false
            }
            state.withLockedValue { $0[proto, default: PeerState()].bloom = bloom }
        case MailCode.statusUpdate where proto == .waku:
            do { try applyStatus(message.payload, proto) } catch {
                await peer.disconnect(reason: .protocolError)
                return false
            }
        case MailCode.p2pRequest:
            return await answerRequest(message.payload, proto)
        default:
            break  // 125/127 from a peer we never asked, and unknown codes: ignored.
        }
        return true
    }

    func answerRequest(_ payload: [UInt8], _ proto: MailProtocol) async -> Bool {
        let metrics = node.metrics
        metrics.increment("mailserver_requests_total")
        let start = MailServerNode.now()
        // The archive reads the page on this task while a second one sends each packet as soon as it is ready.
        let (packets, queue) = AsyncStream.makeStream(of: RequestProcessor.Packet.self)
        let peer = self.peer
        let sender = Task { () -> Bool in
            var delivered = true
            for await packet in packets where delivered {
                do {
                    try await peer.send(capability: proto.capabilityName, code: packet.code, payload: packet.payload)
                } catch {
                    delivered = false
                    continue
                }
                metrics.increment("whisper_archive_bytes_out_total", by: Double(packet.payload.count))
                if packet.code == MailCode.p2pMessage { metrics.increment("mailserver_requests_batched_total") }
            }
            return delivered
        }
        let answer = node.processor.handle(payload, from: peerID, on: proto, now: start) { queue.yield($0) }
        queue.finish()
        let delivered = await sender.value
        if answer.disconnect {
            metrics.increment("mailserver_delivery_failures_total{type=\"validation\"}")
            logger.info("invalid p2p request; disconnecting")
            await peer.disconnect(reason: .protocolError)
            return false
        }
        if let failure = answer.failure {
            let type = failure == "rate limit exceeded" ? "peer_req_limit" : "validation"
            metrics.increment("mailserver_delivery_failures_total{type=\"\(type)\"}")
        }
        guard delivered else {
            metrics.increment("mailserver_delivery_failures_total{type=\"historic_msg_resp\"}")
            return false
        }
        metrics.increment("mailserver_delivery_attempts_total")
        metrics.increment("mailserver_envelopes_sent_total", by: Double(answer.envelopes))
        metrics.observeRequest(seconds: MailServerNode.now() - start)
        return true
    }

    /// Code 1: receive checks, archive (durable before acknowledging), relay, confirmations.
    func receiveEnvelopes(_ payload: [UInt8], _ proto: MailProtocol) async -> Bool {
        let envelopes: [Envelope]
        do {
            envelopes = try Envelope.decodeBatch(payload)
        } catch {
            logger.info("undecodable messages packet; disconnecting")
            await peer.disconnect(reason: .protocolError)
            return false
        }
        let now = UInt32(truncatingIfNeeded: Int(MailServerNode.now()))
        var policy = ReceivePolicy(minPoW: node.configuration.minPoW, maxMessageSize: node.configuration.maxMessageSize)
        policy.bloom = .full
        var accepted: [(Envelope, Double)] = []
        var failures: [(hash: [UInt8], code: UInt64, text: String)] = []
        var fatal: String?
        for e in envelopes {
            node.metrics.increment("whisper_envelopes_received_total")
            switch policy.check(e, now: now) {
            case .accept(let pow):
                accepted.append((e, pow))
            case .dropSilently:
                continue
            case .reject(let reason, let timeSync):
                node.metrics.increment("whisper_envelopes_rejected_total")
                failures.append((e.hash, timeSync ? (proto == .whisper ? 37 : 21) : (proto == .whisper ? 38 : 22), reason))
                if !timeSync { fatal = reason }
            }
        }
        var stored = true
        if !accepted.isEmpty {
            do {
                let result = try await node.archive.append(accepted.map(\.0), arrivals: accepted.map { _ in now })
                node.metrics.increment("mailserver_archived_envelopes_total", by: Double(result.added))
                node.metrics.increment("whisper_envelopes_cached_total", by: Double(result.added))
                if result.added > 0 { node.relay(accepted, from: self) }
            } catch {
                stored = false
                node.metrics.increment("mailserver_archived_envelopes_failures_total")
                logger.error("archiving failed: \(error)")
                for (e, _) in accepted { failures.append((e.hash, proto == .whisper ? 38 : 22, "archive failure")) }
            }
        }
        let confirmations = state.withLockedValue { $0[proto]?.confirmations ?? false }
        if confirmations {
            let batchHash = Keccak256.hash(payload)
            if !failures.isEmpty {
                var w = RLPWriter()
                w.list { w in
                    w.append(uint: 1)
                    w.list { w in
                        w.append(bytes: batchHash)
                        w.list { w in
                            for f in failures {
                                w.list { w in w.append(bytes: f.hash); w.append(uint: f.code); w.append(bytes: Array(f.text.utf8)) }
                            }
                        }
                    }
                }
                try? await peer.send(capability: proto.capabilityName, code: MailCode.messageResponse, payload: w.bytes)
            }
            if stored {
                var w = RLPWriter()
                w.append(bytes: batchHash)
                try? await peer.send(capability: proto.capabilityName, code: MailCode.batchAcknowledged, payload: w.bytes)
            }
        }
        if let fatal {
            logger.info("rejected envelope: \(fatal); disconnecting")
            await peer.disconnect(reason: .protocolError)
            return false
        }
        return true
    }

    func enqueueRelay(_ envelopes: [(Envelope, Double)]) {
        var batches: [Envelope] = []
        let st = state.withLockedValue { $0 }
        for (e, pow) in envelopes {
            if st.values.contains(where: { $0.wants(e, pow: pow) }) { batches.append(e) }
        }
        if !batches.isEmpty { relayContinuation.yield(batches) }
    }

    func relayLoop() async {
        for await batch in relayQueue {
            let proto = protocols.last ?? .whisper
            let payload = Envelope.encodeList(batch.map(\.rlp))
            do {
                try await peer.send(capability: proto.capabilityName, code: MailCode.messages, payload: payload)
                node.metrics.increment("whisper_archive_bytes_out_total", by: Double(payload.count))
            } catch {
                return
            }
        }
    }
}
