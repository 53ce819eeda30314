import ArchiveStore
import EthCrypto
import Foundation
import Whisper

/// The envelopes the store, serve, verify and compact benches build archives from: 1 KiB each, payloads that are
/// random slices of one random MiB (incompressible, as encrypted traffic is), topics in turn, and sent times
/// spread evenly over `span` seconds from `start`.
struct BenchEnvelopes {
    let count: Int
    let topics: [Topic]
    let start: UInt32
    let span: UInt64
    let ttl: UInt32
    private let pool = SecureRandom.bytes(1 << 20)
    private var rng = SystemRandomNumberGenerator()

    init(count: Int, topics: [Topic], start: UInt32 = 1_700_000_000, span: UInt64, ttl: UInt32 = 300) {
        self.count = count
        self.topics = topics
        self.start = start
        self.span = span
        self.ttl = ttl
    }

    /// `count` distinct topics spread over the 32-bit space, the same in every run.
    static func topics(_ count: Int) -> [Topic] {
        (0..<count).map { Topic(rawValue: UInt32($0) &* 0x9E37_79B1 &+ 0x1234_5678) }
    }

    /// The `i`-th envelope (its payload offset is random).
    mutating func envelope(_ i: Int) -> Envelope {
        let off = Int.random(in: 0..<(pool.count - 1000), using: &rng)
        let sent = start + UInt32(UInt64(i) * span / UInt64(max(1, count)))
        return Envelope(expiry: sent + ttl, ttl: ttl, topic: topics[i % topics.count], data: pool[off..<(off + 1000)], nonce: UInt64(i))
    }

    /// Appends all of them to `store` in batches of 1000.
    mutating func append(to store: any EnvelopeStore) async throws {
        // Up to `depth` batches in flight: a database engine commits each batch in a round trip of its own.
        let depth = 8
        var pending: [PendingAppend] = []
        var batch: [Envelope] = []
        batch.reserveCapacity(1000)
        for i in 0..<count {
            batch.append(envelope(i))
            if batch.count == 1000 || i == count - 1 {
                pending.append(try store.enqueue(batch, arrivals: nil))
                batch.removeAll(keepingCapacity: true)
                if pending.count == depth { _ = try await pending.removeFirst().value() }
            }
        }
        for p in pending { _ = try await p.value() }
    }
}
