import EthCrypto

/// A key that seals (encrypts) a Whisper message.
public enum SealingKey: Sendable {
    /// AES-256-GCM with a 32-byte symmetric key.
    case symmetric([UInt8])
    /// ECIES to the recipient's public key.
    case asymmetric(PublicKey)

    /// The symmetric key derived from a password (PBKDF2-HMAC-SHA256, 65356 iterations).
    public static func password(_ password: String) -> SealingKey {
        .symmetric(SymmetricCrypto.keyFromPassword(password))
    }
}

/// A key that opens (decrypts) a Whisper message.
public enum OpeningKey: Sendable {
    /// AES-256-GCM with a 32-byte symmetric key.
    case symmetric([UInt8])
    /// ECIES with the recipient's private key.
    case asymmetric(PrivateKey)

    /// The symmetric key derived from a password (PBKDF2-HMAC-SHA256, 65356 iterations).
    public static func password(_ password: String) -> OpeningKey {
        .symmetric(SymmetricCrypto.keyFromPassword(password))
    }
}
