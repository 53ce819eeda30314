import CSecp256k1

/// The one libsecp256k1 context of the process (contexts are safe to share for these calls).
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()

    let raw: OpaquePointer

    private init() {
        guard let ctx = csecp256k1_context_create() else {
            fatalError("libsecp256k1: cannot create a context")
        }
        var seed = SecureRandom.bytes(32)
        _ = secp256k1_context_randomize(ctx, &seed)
        raw = ctx
    }

    deinit { secp256k1_context_destroy(raw) }

    /// Parses a 64-byte X‖Y public key.
    func parse(publicKey64 bytes: [UInt8]) throws(CryptoError) -> secp256k1_pubkey {
        guard bytes.count == 64 else { throw CryptoError(.invalidPublicKey, "expected 64 bytes, got \(bytes.count)") }
        var input = [UInt8](repeating: 0x04, count: 65)
        input.replaceSubrange(1..<65, with: bytes)
        var pub = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(raw, &pub, input, 65) == 1 else {
            throw CryptoError(.invalidPublicKey, "not a point on secp256k1")
        }
        return pub
    }

    /// Serializes to the 64-byte X‖Y form.
    func serialize(_ pub: secp256k1_pubkey) -> [UInt8] {
        var p = pub
        var out = [UInt8](repeating: 0, count: 65)
        _ = csecp256k1_serialize_uncompressed(raw, &out, &p)
        return Array(out[1...])
    }
}
