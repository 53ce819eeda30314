import ArchiveStore
import CPrimitives
import TestSupport
import Testing

@Suite("CRC32C")
struct CRC32CTests {
    @Test func portableTablesGiveTheCheckValue() {
        let check = Array("123456789".utf8).withUnsafeBytes { cprim_crc32c_update_portable(0, $0.baseAddress, $0.count) }
        #expect(check == 0xE306_9283)
    }

    /// `CRC32C.update` (the crc32 instruction where there is one) against the portable tables, on
    /// random lengths, alignments, seeds and split points; some buffers are long enough for the
    /// three-stream loops (3 × 256 and 3 × 4096 bytes).
    @Test func updateMatchesThePortableTables() {
        var rng = SplitMix(seed: 0x4352_4333_3243)
        let buffer = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        buffer.withUnsafeBytes { all in
            for i in 0..<1000 {
                let start = Int.random(in: 0..<64, using: &rng)
                let length = i % 4 == 0 ? Int.random(in: 0...(all.count - 64), using: &rng) : Int.random(in: 0...2000, using: &rng)
                let bytes = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                let seed = UInt32.random(in: 0...UInt32.max, using: &rng)
                let expected = cprim_crc32c_update_portable(seed, bytes.baseAddress, length)
                #expect(CRC32C.update(seed, bytes) == expected, "\(length) bytes at \(start)")
                let cut = Int.random(in: 0...length, using: &rng)
                let first = CRC32C.update(seed, UnsafeRawBufferPointer(rebasing: bytes[0..<cut]))
                #expect(
                    CRC32C.update(first, UnsafeRawBufferPointer(rebasing: bytes[cut...])) == expected,
                    "\(length) bytes at \(start) cut at \(cut)"
                )
            }
        }
    }
}
