/// A failure in a cryptographic operation, with what the user needs to act on it.
public struct CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// A private key is zero, not below the curve order, or not 32 bytes.
        case invalidPrivateKey = "invalid private key"
        /// A public key is not a point on secp256k1 or has the wrong length.
        case invalidPublicKey = "invalid public key"
        /// A signature is malformed or does not recover a key.
        case invalidSignature = "invalid signature"
        /// An authentication tag (HMAC or GCM) did not match: wrong key or damaged data.
        case authenticationFailed = "authentication failed"
        /// Input is too short or too long for the operation.
        case invalidLength = "invalid length"
        /// A symmetric key is the wrong size or all zeros.
        case invalidSymmetricKey = "invalid symmetric key"
    }

    /// The kind of failure.
    public var code: Code
    /// Extra detail.
    public var detail: String?

    public init(_ code: Code, _ detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    public var description: String {
        detail.map { "\(code.rawValue): \($0)" } ?? code.rawValue
    }
}
