import CSecp256k1

/// A secp256k1 private key (32 bytes, nonzero, below the curve order).
public struct PrivateKey: Sendable, Equatable {
    /// The 32 secret bytes.
    public let bytes: [UInt8]
    /// The matching public key.
    public let publicKey: PublicKey

    /// Validates `bytes` as a private key.
    public init<C: Collection>(bytes: C) throws(CryptoError) where C.Element == UInt8 {
        let b = Array(bytes)
        let ctx = Secp256k1Context.shared
        guard b.count == 32, secp256k1_ec_seckey_verify(ctx.raw, b) == 1 else {
            throw CryptoError(.invalidPrivateKey, "expected 32 bytes below the secp256k1 order, not zero")
        }
        var pub = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_create(ctx.raw, &pub, b) == 1 else {
            throw CryptoError(.invalidPrivateKey)
        }
        self.bytes = b
        self.publicKey = PublicKey(validated: ctx.serialize(pub))
    }

    /// A new random key.
    public static func generate() -> PrivateKey {
        while true {
            if let key = try? PrivateKey(bytes: SecureRandom.bytes(32)) { return key }
        }
    }

    /// ECDH: the raw 32-byte x coordinate of `self · peer` (not hashed), as RLPx and ECIES use it.
    public func sharedSecret(with peer: PublicKey) throws(CryptoError) -> [UInt8] {
        let ctx = Secp256k1Context.shared
        var pub = try ctx.parse(publicKey64: peer.bytes)
        var out = [UInt8](repeating: 0, count: 32)
        guard csecp256k1_ecdh_raw_x(ctx.raw, &out, &pub, bytes) == 1 else {
            throw CryptoError(.invalidPublicKey, "ECDH failed")
        }
        return out
    }

    /// A recoverable signature of a 32-byte hash: R(32)‖S(32)‖V(1) with V ∈ {0, 1}.
    ///
    /// Deterministic (RFC 6979), low-S, as go-ethereum's `crypto.Sign`.
    public func sign(hash: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard hash.count == 32 else { throw CryptoError(.invalidLength, "a signed hash must be 32 bytes") }
        let ctx = Secp256k1Context.shared
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_sign_recoverable(ctx.raw, &sig, hash, bytes, nil, nil) == 1 else {
            throw CryptoError(.invalidPrivateKey, "signing failed")
        }
        var out = [UInt8](repeating: 0, count: 65)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx.raw, &out, &recid, &sig)
        out[64] = UInt8(recid)
        return out
    }

    public static func == (a: PrivateKey, b: PrivateKey) -> Bool { a.bytes == b.bytes }
}

extension PublicKey {
    /// Recovers the signer of `hash` from a 65-byte R‖S‖V signature (V must be 0 or 1).
    public init(recoveringFrom signature: [UInt8], hash: [UInt8]) throws(CryptoError) {
        guard signature.count == 65, hash.count == 32 else {
            throw CryptoError(.invalidSignature, "expected a 65-byte signature and a 32-byte hash")
        }
        let v = signature[64]
        guard v <= 1 else { throw CryptoError(.invalidSignature, "recovery id \(v) is not 0 or 1") }
        let ctx = Secp256k1Context.shared
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(ctx.raw, &sig, signature, Int32(v)) == 1 else {
            throw CryptoError(.invalidSignature, "R or S out of range")
        }
        var pub = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(ctx.raw, &pub, &sig, hash) == 1 else {
            throw CryptoError(.invalidSignature, "no key recovers from this signature")
        }
        self.init(validated: ctx.serialize(pub))
    }
}
