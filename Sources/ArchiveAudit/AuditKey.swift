import Whisper

/// A key the audit tries on every envelope, with a label that names it in reports without revealing it.
public struct AuditKey: Sendable {
    /// How the key was given.
    public enum Kind: String, Sendable, Codable {
        /// A symmetric key derived from a password.
        case password
        /// A raw 32-byte symmetric key.
        case symmetric = "sym-key"
        /// A secp256k1 private key (ECIES).
        case privateKey = "private-key"
    }

    /// A short name for reports, for example `password #1` or `private-key node.key (0x04ab…)`.
    public var label: String
    /// How the key was given.
    public var kind: Kind
    /// The key itself.
    public var key: OpeningKey

    /// Creates a labelled key.
    public init(label: String, kind: Kind, key: OpeningKey) {
        self.label = label
        self.kind = kind
        self.key = key
    }
}
