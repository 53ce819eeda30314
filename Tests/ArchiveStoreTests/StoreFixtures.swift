import ArchiveStore
import EthCrypto
import Foundation
import TestSupport
import Whisper

/// Random envelopes and temporary archives for the store tests.
enum StoreFixtures {
    static func envelope(sent: UInt32, topic: Topic, size: Int = 64, rng: inout some RandomNumberGenerator) -> Envelope {
        let ttl = UInt32.random(in: 10...1000, using: &rng)
        var data = [UInt8](repeating: 0, count: size)
        for i in data.indices { data[i] = UInt8.random(in: 0...255, using: &rng) }
        return Envelope(expiry: sent &+ ttl, ttl: ttl, topic: topic, data: data, nonce: UInt64.random(in: 0...UInt64.max, using: &rng))
    }

    static func envelopes(
        _ n: Int,
        sentRange: ClosedRange<UInt32> = 1_600_000_000...1_600_000_100,
        topics: [Topic],
        size: Int = 64,
        seed: UInt64 = 1
    ) -> [Envelope] {
        var rng = SplitMix(seed: seed)
        return (0..<n).map { _ in
            envelope(sent: UInt32.random(in: sentRange, using: &rng), topic: topics.randomElement(using: &rng)!, size: size, rng: &rng)
        }
    }

    static let topics: [Topic] = (0..<8).map { Topic(rawValue: UInt32($0) &* 0x1357_9BDF &+ 0x0102_0304) }

    static func directory() throws -> String { try CLI.temporaryDirectory("wa-store").path + "/archive" }

    /// A writer without fsync whose blocks and 8 KiB segments are small, so that a few envelopes span several.
    static func smallArchive(at dir: String, blockMaxBytes: Int) throws -> Archive {
        var config = ArchiveConfiguration()
        config.sync = .none
        config.blockMaxBytes = blockMaxBytes
        config.segmentMaxBytes = 8 * 1024
        return try Archive(directory: dir, configuration: config)
    }

    /// The expected answer of an unbounded query, computed without the store.
    static func expected(_ envs: [Envelope], _ filter: EnvelopeFilter) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        return envs.filter { filter.matches(sentTime: $0.sentTime, topic: $0.topic) && seen.insert($0.hash).inserted }
            .map { Array($0.key.bytes[0..<36]) }.sorted { $0.lexicographicallyPrecedes($1) }
    }
}

extension ArchivedEnvelope {
    var cursorBytes: [UInt8] { Array(key.bytes[0..<36]) }
}
