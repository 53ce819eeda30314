import EthCrypto

/// The session secrets that the encryption handshake yields (rlpx-rlp.md §4).
public struct RLPxSecrets: Sendable {
    /// AES-256-CTR key for frames in both directions.
    public let aesSecret: [UInt8]
    /// AES-256 key of the MAC step, and the MAC states' seed.
    public let macSecret: [UInt8]
    /// The MAC state for frames we send.
    var egressMAC: Keccak256
    /// The MAC state for frames we receive.
    var ingressMAC: Keccak256

    /// The egress MAC digest so far (for tests and diagnostics).
    public var egressDigest: [UInt8] { egressMAC.digest() }
    /// The ingress MAC digest so far (for tests and diagnostics).
    public var ingressDigest: [UInt8] { ingressMAC.digest() }

    /// Derives the secrets and MAC states of one side.
    /// - Parameters:
    ///   - isInitiator: true on the dialling side.
    ///   - ephemeralSharedSecret: ECDH x of our ephemeral key and the peer's.
    ///   - authPacket, ackPacket: the packets exactly as on the wire (size prefix included).
    public static func derive(
        isInitiator: Bool,
        ephemeralSharedSecret: [UInt8],
        initiatorNonce: [UInt8],
        recipientNonce: [UInt8],
        authPacket: [UInt8],
        ackPacket: [UInt8]
    ) -> RLPxSecrets {
        let nonceHash = Keccak256.hash(recipientNonce + initiatorNonce)
        let shared = Keccak256.hash(ephemeralSharedSecret + nonceHash)
        let aes = Keccak256.hash(ephemeralSharedSecret + shared)
        let mac = Keccak256.hash(ephemeralSharedSecret + aes)
        var withRecipientNonce = Keccak256()
        withRecipientNonce.update(zip(mac, recipientNonce).map { $0 ^ $1 })
        withRecipientNonce.update(authPacket)
        var withInitiatorNonce = Keccak256()
        withInitiatorNonce.update(zip(mac, initiatorNonce).map { $0 ^ $1 })
        withInitiatorNonce.update(ackPacket)
        return RLPxSecrets(
            aesSecret: aes,
            macSecret: mac,
            egressMAC: isInitiator ? withRecipientNonce : withInitiatorNonce,
            ingressMAC: isInitiator ? withInitiatorNonce : withRecipientNonce
        )
    }

    /// One direction's frame cipher: AES-256-CTR under `aesSecret` from a zero counter, one stream per direction.
    func makeFrameCipher() -> AESStream {
        // The secret is a 32-byte Keccak-256 output and the IV 16 bytes, so this cannot fail.
        try! AESStream(key: aesSecret, mode: .ctr(iv: [UInt8](repeating: 0, count: 16)))
    }

    /// Absorbs `bytes` into the ingress MAC (the EIP-8 "foo" check).
    public mutating func updateIngressMAC(_ bytes: [UInt8]) { ingressMAC.update(bytes) }
    /// Absorbs `bytes` into the egress MAC.
    public mutating func updateEgressMAC(_ bytes: [UInt8]) { egressMAC.update(bytes) }
}
