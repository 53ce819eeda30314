import ArchiveFormats
import ArchiveStore
import CLevelDB
import Foundation
import TestSupport
import Whisper

enum FormatFixtures {
    static func envelopes(_ n: Int, seed: UInt64 = 1) -> [Envelope] {
        var rng = SplitMix(seed: seed)
        let topics = (0..<5).map { Topic(rawValue: UInt32($0) &* 0x2468_ACE1 &+ 7) }
        return (0..<n).map { _ in
            let ttl = UInt32.random(in: 10...500, using: &rng)
            let sent = UInt32.random(in: 1_700_000_000...1_700_086_400, using: &rng)
            let size = Int.random(in: 0...300, using: &rng)
            let data = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            return Envelope(
                expiry: sent + ttl,
                ttl: ttl,
                topic: topics.randomElement(using: &rng)!,
                data: data,
                nonce: UInt64.random(in: 0...UInt64.max, using: &rng)
            )
        }
    }

    static func tempDir() throws -> String { try CLI.temporaryDirectory("wa-formats").path }

    /// A LevelDB written exactly the way status-go writes one: key = DBKey (40 bytes, or 36 for go-ethereum), value = RLP.
    static func writeLevelDB(at path: String, entries: [([UInt8], [UInt8])]) {
        let options = leveldb_options_create()
        leveldb_options_set_create_if_missing(options, 1)
        var err: UnsafeMutablePointer<CChar>?
        let db = leveldb_open(options, path, &err)!
        let wo = leveldb_writeoptions_create()
        for (k, v) in entries {
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    kp.withMemoryRebound(to: CChar.self) { k2 in
                        vp.withMemoryRebound(to: CChar.self) { v2 in
                            leveldb_put(db, wo, k2.baseAddress, k2.count, v2.baseAddress, v2.count, &err)
                        }
                    }
                }
            }
        }
        leveldb_writeoptions_destroy(wo)
        leveldb_close(db)
        leveldb_options_destroy(options)
    }

    static func archiveRLPs(_ dir: String) throws -> Set<[UInt8]> {
        let a = try Archive(directory: dir, configuration: .reader)
        defer { a.close() }
        var out = Set<[UInt8]>()
        try a.scan { out.insert($0.rlp) }
        return out
    }
}
