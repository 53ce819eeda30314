import ArchiveStore
import DevP2P
import EthCrypto
import Foundation
import Whisper

/// One pull from a sync peer: every envelope it holds in a window, stored here (the store drops what it already
/// has), without relaying any of it as live traffic.
///
/// With a whisper peer it asks first in status-go's sync protocol (code 123, answered with code-124 bundles and a
/// final response carrying the next page's cursor). A peer that refuses (we are not its trusted partner), or does
/// not answer within ``Options/syncTimeout``, is asked with ordinary history requests (0x7e, with cursors), as is
/// a waku peer. Every envelope fetched is stored with the fetch time as its arrival.
public enum SyncPull {
    /// What to pull.
    public struct Options: Sendable {
        /// Sent times, inclusive.
        public var lower: UInt32
        public var upper: UInt32
        /// Only these topics (none: all).
        public var topics: [Topic] = []
        /// Our identity: a peer that trusts us for sync knows this key.
        public var key: PrivateKey
        /// The peer's mailserver password for 0x7e requests (nil: encrypt them to its node key).
        public var password: String?
        /// Envelopes per page.
        public var limit: UInt32 = 1000
        /// Seconds to wait for each page.
        public var timeout: Double = 30
        /// Seconds a whisper peer has to answer a first sync request before ordinary requests are used.
        public var syncTimeout: Double = 5
        /// False: ordinary requests only.
        public var useSyncProtocol = true
        /// PoW of the 0x7e request envelopes.
        public var pow: Double = 0.002

        public init(lower: UInt32, upper: UInt32, key: PrivateKey) {
            self.lower = lower
            self.upper = upper
            self.key = key
        }
    }

    /// How a pull went.
    public struct Summary: Sendable, Equatable, Encodable {
        /// `sync` (codes 123/124) or `requests` (0x7e).
        public var method = "requests"
        /// Envelopes received.
        public var fetched = 0
        /// Of them, new here.
        public var added = 0
        /// Received records that were no envelope (skipped).
        public var invalid = 0
        public var pages = 0
        /// Bytes of envelope RLP received.
        public var bytes = 0
        public var seconds = 0.0
    }

    /// A pull that failed, with what it stored before.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// `dial`, `request` or `store` (the `type` of `mailserver_sync_failures_total`).
        public var type: String
        public var description: String
        public var summary: Summary
    }

    /// Pulls `options`' window from `peer` into `store`.
    public static func run(from peer: EnodeURL, into store: any EnvelopeStore, options: Options) async throws(Failure) -> Summary {
        let started = Date()
        var summary = Summary()
        func fail(_ type: String, _ text: String) -> Failure {
            summary.seconds = Date().timeIntervalSince(started)
            return Failure(type: type, description: text, summary: summary)
        }
        // whisper first (the sync protocol is whisper's); a waku-only peer is asked on waku.
        var client: MailClient
        do { client = try await MailClient.connect(to: peer, key: options.key, proto: .whisper) } catch {
            do { client = try await MailClient.connect(to: peer, key: options.key, proto: .waku) } catch {
                throw fail("dial", "\(error)")
            }
        }
        // Closed (with Disconnect) before returning, whatever happened: the caller may exit at once.
        let result: Result<Summary, Failure>
        do throws(Failure) {
            result = .success(try await pull(client, peer: peer, into: store, options: options, started: started))
        } catch {
            result = .failure(error)
        }
        await client.close()
        return try result.get()
    }

    /// The pull over a connected `client`.
    static func pull(
        _ client: MailClient,
        peer: EnodeURL,
        into store: any EnvelopeStore,
        options: Options,
        started: Date
    ) async throws(Failure) -> Summary {
        var summary = Summary()
        func fail(_ type: String, _ text: String) -> Failure {
            summary.seconds = Date().timeIntervalSince(started)
            return Failure(type: type, description: text, summary: summary)
        }
        let arrival = UInt32(clamping: Int(Date().timeIntervalSince1970))
        func keep(_ records: [[UInt8]]) async throws(Failure) {
            var envelopes: [Envelope] = []
            for r in records {
                if let e = try? Envelope(rlp: r) { envelopes.append(e) } else { summary.invalid += 1 }
            }
            summary.pages += 1
            summary.fetched += envelopes.count
            summary.bytes += envelopes.reduce(0) { $0 + $1.rlp.count }
            guard !envelopes.isEmpty else { return }
            do {
                summary.added += try await store.append(envelopes, arrivals: [UInt32](repeating: arrival, count: envelopes.count)).added
            } catch {
                throw fail("store", "storing into \(store.location) failed: \(error)")
            }
        }
        if options.useSyncProtocol, client.proto == .whisper {
            switch try await pullWithSync(client, options: options, keep: keep) {
            case .done:
                summary.method = "sync"
                summary.seconds = Date().timeIntervalSince(started)
                return summary
            case .refused(let why):
                if summary.pages > 0 { throw fail("request", "the sync peer stopped answering: \(why)") }
            }
        }
        summary.method = "requests"
        var cursor: [UInt8] = []
        repeat {
            let request = MailRequest(
                lower: options.lower,
                upper: options.upper,
                bloom: options.topics.isEmpty ? Bloom.full.bytes : Bloom(topics: options.topics).bytes,
                topics: options.topics,
                limit: options.limit,
                cursor: cursor,
                batch: true
            )
            let sealing: SealingKey = options.password.map { .password($0) } ?? .asymmetric(peer.publicKey)
            let page: MailClient.Page
            do {
                let envelope = try MailClient.requestEnvelope(request, sealing: sealing, signer: options.key, pow: options.pow)
                page = try await client.exchange(payload: envelope.rlp, requestID: envelope.hash, timeout: options.timeout)
            } catch {
                throw fail("request", "\(error)")
            }
            switch page.completion {
            case .failure(_, let message):
                throw fail("request", "the mailserver answered with an error: \(message)")
            case .success(_, _, let next):
                cursor = next?.bytes ?? []
            }
            try await keep(page.envelopes.map(\.rlp))
        } while !cursor.isEmpty
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    enum SyncOutcome {
        case done
        /// The peer refused or did not answer: ask with ordinary requests.
        case refused(String)
    }

    /// Pages through the window with codes 123/124.
    static func pullWithSync(
        _ client: MailClient,
        options: Options,
        keep: ([[UInt8]]) async throws(Failure) -> Void
    ) async throws(Failure) -> SyncOutcome {
        var cursor: [UInt8] = []
        var first = true
        while true {
            let request = SyncRequest(
                lower: options.lower,
                upper: options.upper,
                bloom: options.topics.isEmpty ? Bloom.full.bytes : Bloom(topics: options.topics).bytes,
                limit: min(options.limit, SyncRequest.maxLimit),
                cursor: cursor
            )
            do { try await client.send(code: SyncCode.request, payload: request.encoded) } catch {
                return .refused("\(error)")
            }
            var page: [[UInt8]] = []
            while true {
                guard let m = await client.next(code: SyncCode.response, timeout: first ? options.syncTimeout : options.timeout) else {
                    return .refused("no sync response within \(first ? options.syncTimeout : options.timeout) s")
                }
                guard let response = try? SyncResponse(payload: m.payload) else { return .refused("an undecodable sync response") }
                if !response.error.isEmpty { return .refused(response.error) }
                first = false
                page += response.envelopes
                if response.final {
                    cursor = response.cursor
                    break
                }
            }
            try await keep(page)
            if cursor.isEmpty { return .done }
        }
    }
}
