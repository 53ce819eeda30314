import EthCrypto
import Testing
import TestSupport

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
