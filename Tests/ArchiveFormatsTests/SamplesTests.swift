import ArchiveFormats
import ArchiveStore
import Foundation
import TestSupport
import Testing
import Whisper

/// The sample files in Samples/ (used by the README examples): one per format, all holding the same envelopes.
/// Run with `WA_WRITE_SAMPLES=1` to regenerate them.
@Suite("Samples")
struct SamplesTests {
    static let root = Vectors.repositoryRoot.path + "/Samples"
    static let names: [(ArchiveFormat, String)] = [
        (.rlp, "mail.rlp"), (.rlp, "mail.rlp.lz4"), (.jsonl, "mail.jsonl"),
        (.sqlite, "mail.sqlite"), (.leveldb, "mail-leveldb"), (.archive, "mail-archive"),
    ]

    static func envelopes() -> [Envelope] {
        let topics = [Topic(name: "contact-discovery"), Topic(name: "status"), Topic(rawValue: 0xF894_6AAC)]
        var rng = SplitMix(seed: 42)
        return (0..<40).map { i in
            let sent = 1_714_521_600 + UInt32(i) * 1800  // from 2024-05-01T00:00:00Z, every 30 minutes
            let data = (0..<(64 + i * 8)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            return Envelope(expiry: sent + 600, ttl: 600, topic: topics[i % 3], data: data, nonce: UInt64(i) * 7919)
        }
    }

    @Test func samplesHoldTheSameEnvelopes() async throws {
        let envs = Self.envelopes()
        if ProcessInfo.processInfo.environment["WA_WRITE_SAMPLES"] != nil {
            let tmp = try FormatFixtures.tempDir()
            let a = try Archive(directory: tmp + "/a")
            // As `import` of Samples/mail.rlp stores them: arrival unknown (0).
            _ = try await a.append(envs, arrivals: envs.map { _ in 0 })
            for (format, name) in Self.names {
                try? FileManager.default.removeItem(atPath: Self.root + "/" + name)
                _ = try await Exporter.run(store: a, filter: .all, format: format, path: Self.root + "/" + name)
            }
            a.close()
            for f in ["LOCK", "index.sqlite-wal", "index.sqlite-shm"] {
                try? FileManager.default.removeItem(atPath: Self.root + "/mail-archive/" + f)
            }
        }
        // Reading the samples changes none of them, the LevelDB and the archive included.
        let samples = Self.names.map { Self.root + "/" + $0.1 }.filter { FileManager.default.fileExists(atPath: $0) }
        let before = try samples.map(DirectorySnapshot.init)
        defer { #expect((try? samples.map(DirectorySnapshot.init)) == before, "reading the samples changed them") }
        for (format, name) in Self.names {
            let path = Self.root + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            #expect(try ArchiveFormat.detect(path: path) == format)
            var source = try format.source(path: path)
            var got = Set<[UInt8]>()
            while let item = try source.next() {
                guard case .envelope(let e, let arrival) = item else {
                    Issue.record("\(name): \(item)")
                    continue
                }
                got.insert(e.rlp)
                // The sample archive was imported from mail.rlp, which keeps no arrival times.
                #expect(arrival == nil || arrival == 0, "\(name): arrival \(arrival ?? 0)")
            }
            #expect(got == Set(envs.map(\.rlp)), "\(name)")
        }
    }
}
