import CSecp256k1

/// A secp256k1 public key in its 64-byte wire form (X‖Y, no 0x04 prefix).
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The 64 bytes X‖Y.
    public let bytes: [UInt8]

    /// Validates that `bytes` (64, or 65 with a 0x04 prefix) is a point on the curve.
    public init<C: Collection>(bytes: C) throws(CryptoError) where C.Element == UInt8 {
        var b = Array(bytes)
        if b.count == 65 && b[0] == 0x04 { b.removeFirst() }
        _ = try Secp256k1Context.shared.parse(publicKey64: b)
        self.bytes = b
    }

    init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// The 65-byte uncompressed form with the 0x04 prefix (as in ECIES).
    public var uncompressed: [UInt8] { [0x04] + bytes }

    /// go-ethereum's node ID: Keccak-256 of the 64 bytes.
    public var nodeID: [UInt8] { Keccak256.hash(bytes) }

    public var description: String { bytes.hex }
}
