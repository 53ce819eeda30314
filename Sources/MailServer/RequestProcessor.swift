import ArchiveStore
import EthCrypto
import RLP
import Whisper

/// Turns one 0x7e payload into the answer a status-go mailserver would give (whisper §5):
/// decode (envelope-wrapped or direct), decrypt, check, query the store, bundle, complete.
///
/// It holds no connection state; the peer session sends what it returns.
public final class RequestProcessor: Sendable {
    /// One packet to send on the requesting peer's capability.
    public struct Packet: Sendable, Equatable {
        public var code: UInt64
        public var payload: [UInt8]
    }

    /// The answer to one request.
    public struct Answer: Sendable {
        /// 0x7f bundles then the 0x7d completion, in order.
        public var packets: [Packet]
        /// True when the payload was not a request at all ("invalid p2p request"): the peer is dropped.
        public var disconnect: Bool
        /// Envelopes delivered.
        public var envelopes: Int
        /// The request ID (envelope hash, or the direct request's ID).
        public var requestID: [UInt8]?
        /// The decoded request, when decoding got that far.
        public var request: MailRequest?
        /// The failure reported to the peer ("ERROR=" text), if any.
        public var failure: String?
        /// True when the failure is the store's (the query threw), not the request's.
        public var storeFailed = false
    }

    /// The failure text of a request refused by the rate limit.
    public static let rateLimitFailure = "rate limit exceeded"

    let store: any EnvelopeStore
    let configuration: MailServerConfiguration
    let limiter: RateLimiter

    /// A processor answering from `store`.
    public init(store: any EnvelopeStore, configuration: MailServerConfiguration) {
        self.store = store
        self.configuration = configuration
        self.limiter = RateLimiter(interval: configuration.rateLimitSeconds)
    }

    /// Answers a 0x7e payload from `peer` (its node ID hex) on `proto`, with every packet in `packets`.
    public func handle(_ payload: [UInt8], from peer: String, on proto: MailProtocol, now: Double) async -> Answer {
        var packets: [Packet] = []
        var answer = await handle(payload, from: peer, on: proto, now: now) { packets.append($0) }
        answer.packets = packets
        return answer
    }

    /// Answers a 0x7e payload, handing each packet to `emit` as soon as it is ready: the first 0x7f bundle goes
    /// out while the store still reads the rest of the page. `packets` of the result is empty.
    ///
    /// Validation failures emit only the "ERROR=" completion. An I/O error in the middle of a page (rare: damaged
    /// blocks and missing files are skipped, not errors) ends the bundles already emitted with one.
    public func handle(
        _ payload: [UInt8],
        from peer: String,
        on proto: MailProtocol,
        now: Double,
        emit: (Packet) -> Void
    ) async -> Answer {
        var answer = await route(payload, from: peer, on: proto, now: now, emit: emit)
        for packet in answer.packets { emit(packet) }
        answer.packets = []
        return answer
    }

    /// Decodes the request and answers it; bundles go to `emit`, the completion is returned in `packets`.
    private func route(
        _ payload: [UInt8],
        from peer: String,
        on proto: MailProtocol,
        now: Double,
        emit: (Packet) -> Void
    ) async -> Answer {
        // 1. An envelope-wrapped request (the legacy and status-go path).
        if let envelope = try? Envelope(rlp: payload) {
            let id = envelope.hash
            switch open(envelope, on: proto, now: UInt32(truncatingIfNeeded: Int(now))) {
            case .failure(let message):
                return failure(id, message)
            case .success(let request):
                return await answer(request, id: id, peer: peer, on: proto, now: now, emit: emit)
            }
        }
        // 2. A direct MessagesRequest (6 items for whisper, 7 for waku).
        if var request = try? MailRequest.decodeDirect(payload), let id = request.directRequestID {
            if proto == .whisper { request.topics = nil }
            if request.upper == 0 { request.upper = UInt32(truncatingIfNeeded: Int(now)) &+ configuration.upperSafety }
            return await answer(request, id: id, peer: peer, on: proto, now: now, emit: emit)
        }
        // 3. Neither: "invalid p2p request", which disconnects the peer.
        return Answer(
            packets: [],
            disconnect: true,
            envelopes: 0,
            requestID: nil,
            request: nil,
            failure: "invalid p2p request"
        )
    }

    enum Opened {
        case success(MailRequest)
        case failure(String)
    }

    /// PoW check, decryption (node key first, then the password key), signature, payload decoding.
    func open(_ envelope: Envelope, on proto: MailProtocol, now: UInt32) -> Opened {
        if configuration.minPoW > 0 && envelope.proofOfWork() < configuration.minPoW {
            return .failure("PoW too low: \(envelope.proofOfWork()) < \(configuration.minPoW)")
        }
        var message: Message?
        // The password's key first: a failed symmetric attempt costs an AES-GCM tag check, a failed asymmetric one
        // an elliptic-curve multiplication.
        if let key = configuration.passwordKey, let m = try? envelope.open(with: .symmetric(key)) { message = m }
        if message == nil, let m = try? envelope.open(with: .asymmetric(configuration.nodeKey)) { message = m }
        guard let message else { return .failure("failed to decrypt p2p request") }
        guard message.signer != nil else { return .failure("request is not signed") }
        var request: MailRequest
        do {
            request =
                proto == .whisper
                ? try MailRequest.decodePayload(message.payload)
                : try MailRequest.decodeRLP(message.payload)
        } catch {
            return .failure("failed to decode request: \(error.detail)")
        }
        if request.dialect == .legacy {
            if request.upper < request.lower { return .failure("query range is invalid: lower > upper") }
            if request.upper - request.lower > 86400 { return .failure("query range too big: over 24 hours") }
        } else if request.upper == 0 {
            request.upper = now &+ configuration.upperSafety
        }
        return .success(request)
    }

    func failure(_ id: [UInt8], _ message: String, request: MailRequest? = nil) -> Answer {
        let completion = RequestCompletion.failure(requestID: id, message: message)
        return Answer(
            packets: [Packet(code: MailCode.p2pRequestComplete, payload: completion.encoded)],
            disconnect: false,
            envelopes: 0,
            requestID: id,
            request: request,
            failure: message
        )
    }

    /// Validation (§5.4), rate limit, query, bundles, completion.
    func answer(
        _ request: MailRequest,
        id: [UInt8],
        peer: String,
        on proto: MailProtocol,
        now: Double,
        emit: (Packet) -> Void
    ) async -> Answer {
        if request.upper < request.lower { return failure(id, "query range is invalid: lower > upper", request: request) }
        let topics = request.topics ?? []
        if request.bloom.isEmpty && topics.isEmpty { return failure(id, "bloom filter is empty", request: request) }
        if request.limit > configuration.maxLimit {
            return failure(id, "limit \(request.limit) exceeds the maximum \(configuration.maxLimit)", request: request)
        }
        guard limiter.allow(peer: peer, now: now) else { return failure(id, Self.rateLimitFailure, request: request) }

        let limit = request.limit == 0 ? configuration.maxLimit : request.limit
        let selection: EnvelopeFilter.Topics
        if !topics.isEmpty {
            selection = .list(topics)
        } else if request.bloom.count >= 64 {
            selection = .bloom((try? Bloom(bytes: request.bloom.suffix(64))) ?? .full)
        } else {
            // A short bloom is a big-endian number: left-pad to 64 bytes.
            selection = .bloom((try? Bloom(bytes: [UInt8](repeating: 0, count: 64 - request.bloom.count) + request.bloom)) ?? .full)
        }
        let cursor: Cursor? = request.cursor.count >= Cursor.length ? try? Cursor(bytes: request.cursor.prefix(Cursor.length)) : nil
        var bundler = Bundler(
            batch: request.batch,
            proto: proto,
            budget: min(configuration.maxMessageSize, configuration.bundleBytes) - 9
        )
        var count = 0
        var last = [UInt8](repeating: 0, count: 32)
        let page: QueryPage
        do {
            page = try await store.query(
                EnvelopeFilter(from: request.lower, to: request.upper, topics: selection),
                limit: Int(limit),
                after: cursor
            ) { envelope in
                bundler.add(envelope.rlp, emit)
                count += 1
                last = envelope.hash
            }
        } catch {
            var answer = failure(id, "failed to process the request: \(error.message)", request: request)
            answer.storeFailed = true
            return answer
        }
        bundler.flush(emit)
        let completion = RequestCompletion.success(requestID: id, lastEnvelopeHash: last, cursor: page.cursor)
        return Answer(
            packets: [Packet(code: MailCode.p2pRequestComplete, payload: completion.encoded)],
            disconnect: false,
            envelopes: count,
            requestID: id,
            request: request,
            failure: nil
        )
    }
}

/// Groups a page's envelopes into 0x7f packets in the requester's dialect (§5.6), as they are read: batched lists
/// of about `bundleBytes` and no larger than the maximum message size (list header included; an envelope larger
/// than the budget goes alone), a bare envelope for a whisper bundle of one; unbatched, one per packet.
struct Bundler {
    let batch: Bool
    let proto: MailProtocol
    /// Payload bytes per list, without the list header.
    let budget: Int
    private var bundle: [[UInt8]] = []
    private var size = 0

    init(batch: Bool, proto: MailProtocol, budget: Int) {
        self.batch = batch
        self.proto = proto
        self.budget = budget
    }

    mutating func add(_ envelope: [UInt8], _ emit: (RequestProcessor.Packet) -> Void) {
        if !bundle.isEmpty && (!batch || size + envelope.count > budget) { flush(emit) }
        bundle.append(envelope)
        size += envelope.count
    }

    /// Emits the bundle being filled, if any.
    mutating func flush(_ emit: (RequestProcessor.Packet) -> Void) {
        guard !bundle.isEmpty else { return }
        if proto == .whisper && bundle.count == 1 {
            emit(.init(code: MailCode.p2pMessage, payload: bundle[0]))
        } else {
            emit(.init(code: MailCode.p2pMessage, payload: Envelope.encodeList(bundle)))
        }
        bundle.removeAll(keepingCapacity: true)
        size = 0
    }
}
