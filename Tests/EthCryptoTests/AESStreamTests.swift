import EthCrypto
import TestSupport
import Testing

@Suite("AES streams")
struct AESStreamTests {
    // NIST SP 800-38A, F.5.5 (CTR-AES256.Encrypt).
    static let ctrKey = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
    static let ctrIV = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
    static let ctrPlain =
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        + "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
    static let ctrCipher =
        "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
        + "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"

    @Test func ctrMatchesNISTVector() throws {
        var s = try AESStream(key: try Hex.decode(Self.ctrKey), mode: .ctr(iv: try Hex.decode(Self.ctrIV)))
        #expect(s.apply(try Hex.decode(Self.ctrPlain)).hex == Self.ctrCipher)
    }

    /// One keystream across calls of any size, as each RLPx direction needs (header 16 bytes, then bodies).
    @Test func ctrIsOneStreamAcrossCallsOfAnySize() throws {
        let plain = try Hex.decode(Self.ctrPlain)
        for split in [1, 3, 15, 16, 17, 33] {
            var s = try AESStream(key: try Hex.decode(Self.ctrKey), mode: .ctr(iv: try Hex.decode(Self.ctrIV)))
            var out: [UInt8] = []
            var i = 0
            while i < plain.count {
                let j = min(plain.count, i + split)
                out += s.apply(Array(plain[i..<j]))
                i = j
            }
            #expect(out.hex == Self.ctrCipher, "split \(split)")
        }
    }

    /// A copy continues the keystream on its own: the original is not advanced by the copy's use.
    @Test func copiesAreIndependent() throws {
        let plain = try Hex.decode(Self.ctrPlain)
        var a = try AESStream(key: try Hex.decode(Self.ctrKey), mode: .ctr(iv: try Hex.decode(Self.ctrIV)))
        _ = a.apply(Array(plain[0..<16]))
        var b = a
        let fromB = b.apply(Array(plain[16...]))
        let fromA = a.apply(Array(plain[16...]))
        #expect(fromA == fromB)
        #expect(fromA.hex == String(Self.ctrCipher.dropFirst(32)))
    }

    // FIPS-197, appendix C.3 (AES-256).
    @Test func ecbMatchesFIPS197() throws {
        var s = try AESStream(key: try Hex.decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), mode: .ecb)
        #expect(s.apply(try Hex.decode("00112233445566778899aabbccddeeff")).hex == "8ea2b7ca516745bfeafc49904b496089")
        // Blocks are independent: the same block again gives the same output.
        #expect(s.apply(try Hex.decode("00112233445566778899aabbccddeeff")).hex == "8ea2b7ca516745bfeafc49904b496089")
    }

    @Test func rejectsBadKeyAndIV() {
        #expect(throws: CryptoError.self) { try AESStream(key: [UInt8](repeating: 0, count: 24), mode: .ecb) }
        #expect(throws: CryptoError.self) { try AESStream(key: [UInt8](repeating: 0, count: 32), mode: .ctr(iv: [0])) }
    }

    @Test func keccakDigestIntoMatchesDigest() {
        var h = Keccak256()
        for n in [0, 1, 135, 136, 137, 300] {
            h.update([UInt8](repeating: UInt8(n & 0xFF), count: n))
            var prefix = [UInt8](repeating: 0, count: 16)
            prefix.withUnsafeMutableBytes { h.digest(into: $0) }
            #expect(prefix == Array(h.digest().prefix(16)))
        }
    }
}
