import Crypto
import Foundation

/// ECIES on secp256k1 as go-ethereum's `ECIES_AES128_SHA256` (rlpx-rlp.md §2, whisper §3.3).
///
/// Output layout: `R(65, 0x04‖X‖Y) ‖ IV(16) ‖ AES-128-CTR(kE, IV, m) ‖ HMAC-SHA256(kM, IV‖C‖S2)`.
public enum ECIES {
    /// Bytes added to the plaintext: 65 + 16 + 32.
    public static let overhead = 113

    /// Encrypts `plaintext` to `recipient`.
    /// - Parameters:
    ///   - sharedInfo1: KDF shared info S1 (empty in RLPx and Whisper).
    ///   - sharedMACData: S2, appended to the MAC input (the EIP-8 size prefix in RLPx, else empty).
    public static func encrypt(
        _ plaintext: [UInt8],
        to recipient: PublicKey,
        sharedInfo1: [UInt8] = [],
        sharedMACData: [UInt8] = [],
        ephemeralKey: PrivateKey = .generate(),
        iv: [UInt8] = SecureRandom.bytes(16)
    ) throws(CryptoError) -> [UInt8] {
        let z = try ephemeralKey.sharedSecret(with: recipient)
        let (ke, km) = deriveKeys(z: z, s1: sharedInfo1)
        var out = ephemeralKey.publicKey.uncompressed
        out.reserveCapacity(overhead + plaintext.count)
        out += iv
        out += try aes128CTR(key: ke, iv: iv, plaintext)
        let tag = mac(km: km, ivAndCiphertext: out[65...], s2: sharedMACData)
        out += tag
        return out
    }

    /// Decrypts a message addressed to `key`; throws ``CryptoError/Code/authenticationFailed`` when the tag does not match.
    public static func decrypt(
        _ message: [UInt8],
        with key: PrivateKey,
        sharedInfo1: [UInt8] = [],
        sharedMACData: [UInt8] = []
    ) throws(CryptoError) -> [UInt8] {
        guard message.count >= overhead else {
            throw CryptoError(.invalidLength, "ECIES message of \(message.count) bytes is shorter than \(overhead)")
        }
        guard message[0] == 0x04 else { throw CryptoError(.invalidPublicKey, "ECIES ephemeral key is not uncompressed") }
        let r = try PublicKey(bytes: message[1..<65])
        let z = try key.sharedSecret(with: r)
        let (ke, km) = deriveKeys(z: z, s1: sharedInfo1)
        let tagStart = message.count - 32
        let expected = mac(km: km, ivAndCiphertext: message[65..<tagStart], s2: sharedMACData)
        guard constantTimeEqual(expected, message[tagStart...]) else {
            throw CryptoError(.authenticationFailed, "ECIES MAC mismatch (not for this key, or damaged)")
        }
        let iv = Array(message[65..<81])
        return try aes128CTR(key: ke, iv: iv, message[81..<tagStart])
    }

    /// NIST SP 800-56 concatenation KDF with SHA-256 (one round suffices for 32 bytes).
    public static func concatKDF(z: [UInt8], s1: [UInt8], length: Int) -> [UInt8] {
        var out: [UInt8] = []
        var counter: UInt32 = 1
        while out.count < length {
            var h = SHA256()
            h.update(data: [
                UInt8(counter >> 24), UInt8(truncatingIfNeeded: counter >> 16),
                UInt8(truncatingIfNeeded: counter >> 8), UInt8(truncatingIfNeeded: counter),
            ])
            h.update(data: z)
            h.update(data: s1)
            out += Array(h.finalize())
            counter += 1
        }
        return Array(out.prefix(length))
    }

    /// kE = K[0:16]; kM = SHA-256(K[16:32]).
    static func deriveKeys(z: [UInt8], s1: [UInt8]) -> ([UInt8], [UInt8]) {
        let k = concatKDF(z: z, s1: s1, length: 32)
        return (Array(k[0..<16]), Array(SHA256.hash(data: k[16..<32])))
    }

    static func mac(km: [UInt8], ivAndCiphertext: ArraySlice<UInt8>, s2: [UInt8]) -> [UInt8] {
        var h = HMAC<SHA256>(key: SymmetricKey(data: km))
        h.update(data: ivAndCiphertext)
        h.update(data: s2)
        return Array(h.finalize())
    }

    static func aes128CTR<C: Collection>(key: [UInt8], iv: [UInt8], _ data: C) throws(CryptoError) -> [UInt8]
    where C.Element == UInt8 {
        var stream = try AESStream(key: key, mode: .ctr(iv: iv))
        return stream.apply(Array(data))
    }
}

/// Compares two byte sequences without an early exit.
@inlinable
public func constantTimeEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}
