import CPrimitives
import EthCrypto
import TestSupport
import Testing

@Suite("Keccak-256")
struct KeccakTests {
    @Test func publishedVectors() throws {
        let obj = try Vectors.object("keccak256.json")
        let vectors = try obj.objects("vectors")
        #expect(vectors.count == 11)
        for v in vectors {
            let input = try v.hex("input_hex")
            #expect(input.count == (try v.int("input_len_bytes")))
            #expect(Keccak256.hash(input).hex == (try v.string("digest")), "\(v["name"] ?? "")")
        }
    }

    @Test func rateBoundaryCases() throws {
        let obj = try Vectors.object("keccak256.json")
        for c in try obj.object("computed_rate_boundary_cases").objects("cases") {
            let byte = try c.hex("input_byte")
            let input = [UInt8](repeating: byte[0], count: try c.int("input_len_bytes"))
            #expect(Keccak256.hash(input).hex == (try c.string("digest")), "\(c["name"] ?? "")")
        }
    }

    @Test func isNotSHA3() throws {
        let obj = try Vectors.object("keccak256.json").object("negative_check_sha3_256_is_different")
        #expect(Keccak256.hash([UInt8]()).hex == (try obj.string("keccak256_digest")))
        #expect(Keccak256.hash([UInt8]()).hex != (try obj.string("sha3_256_fips202_digest")))
    }

    @Test func incrementalMatchesOneShotAtEverySplit() {
        let input = (0..<700).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let expected = Keccak256.hash(input)
        for split in [0, 1, 67, 135, 136, 137, 271, 272, 273, 699, 700] {
            var h = Keccak256()
            h.update(input[..<split])
            h.update(input[split...])
            #expect(h.finalize() == expected, "split at \(split)")
        }
    }

    @Test func digestDoesNotFinalizeTheRunningState() {
        var h = Keccak256()
        h.update(Array("foo".utf8))
        #expect(h.digest() == Keccak256.hash(Array("foo".utf8)))
        h.update(Array("bar".utf8))
        #expect(h.digest() == Keccak256.hash(Array("foobar".utf8)))
    }
}

@Suite("Keccak-256 against the Swift reference permutation")
struct KeccakReferenceTests {
    @Test func randomInputsOfEveryLengthUpTo600() {
        var rng = SplitMix(seed: 0x6B65_6363_616B)
        for length in 0...600 {
            let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let expected = ReferenceKeccak.hash(input)
            #expect(Keccak256.hash(input) == expected, "one-shot, \(length) bytes")

            // The same bytes in up to four pieces cut at random points.
            var cuts = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Int.random(in: 0...length, using: &rng) }
            cuts = [0] + cuts.sorted() + [length]
            var h = Keccak256()
            for i in 0..<(cuts.count - 1) { h.update(input[cuts[i]..<cuts[i + 1]]) }
            #expect(h.digest() == expected, "digest, \(length) bytes cut at \(cuts)")
            #expect(h.finalize() == expected, "incremental, \(length) bytes cut at \(cuts)")
        }
    }

    @Test func dispatchedAndPortableAbsorbAgree() {
        var rng = SplitMix(seed: 0xC0DE)
        for blocks in 0...9 {
            var a = (0..<25).map { _ in rng.next() }
            var b = a
            var r = ReferenceKeccak(lanes: a)
            // One spare byte in front so the blocks start unaligned.
            let input = (0..<(blocks * 136 + 1)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            input.withUnsafeBytes { raw in
                let blocksStart = raw.baseAddress! + 1
                cprim_keccak_f1600_absorb136(&a, blocksStart, blocks)
                cprim_keccak_f1600_absorb136_portable(&b, blocksStart, blocks)
            }
            for i in 0..<blocks { r.absorb(input[(1 + i * 136)..<(1 + (i + 1) * 136)]) }
            #expect(a == r.lanes, "dispatched, \(blocks) blocks")
            #expect(b == r.lanes, "portable, \(blocks) blocks")
        }
    }
}

/// Keccak-256 written plainly from the specification (loops over x and y, no unrolling):
/// the slow reference for the C absorb loop.
struct ReferenceKeccak {
    var lanes: [UInt64]

    init(lanes: [UInt64] = [UInt64](repeating: 0, count: 25)) { self.lanes = lanes }

    static func hash(_ input: [UInt8]) -> [UInt8] {
        var padded = input
        padded.append(0x01)
        while padded.count % 136 != 0 { padded.append(0) }
        padded[padded.count - 1] |= 0x80
        var k = ReferenceKeccak()
        for start in stride(from: 0, to: padded.count, by: 136) { k.absorb(padded[start..<(start + 136)]) }
        return (0..<32).map { UInt8(truncatingIfNeeded: k.lanes[$0 / 8] >> (UInt64($0 % 8) * 8)) }
    }

    mutating func absorb(_ block: ArraySlice<UInt8>) {
        for (i, byte) in block.enumerated() { lanes[i / 8] ^= UInt64(byte) << (UInt64(i % 8) * 8) }
        permute()
    }

    static func rotl(_ x: UInt64, _ n: Int) -> UInt64 { n == 0 ? x : (x << UInt64(n)) | (x >> UInt64(64 - n)) }

    /// Keccak-f[1600]: theta, rho and pi, chi, iota for 24 rounds.
    mutating func permute() {
        let rotations: [Int] = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14]
        var a = lanes
        for round in 0..<24 {
            var c = [UInt64](repeating: 0, count: 5)
            for i in 0..<25 { c[i % 5] ^= a[i] }
            for x in 0..<5 {
                let d = c[(x + 4) % 5] ^ Self.rotl(c[(x + 1) % 5], 1)
                for y in 0..<5 { a[x + 5 * y] ^= d }
            }
            var b = [UInt64](repeating: 0, count: 25)
            for x in 0..<5 {
                for y in 0..<5 { b[y + 5 * ((2 * x + 3 * y) % 5)] = Self.rotl(a[x + 5 * y], rotations[x + 5 * y]) }
            }
            for x in 0..<5 {
                for y in 0..<5 { a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]) }
            }
            a[0] ^= Self.roundConstants[round]
        }
        lanes = a
    }

    static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
}
