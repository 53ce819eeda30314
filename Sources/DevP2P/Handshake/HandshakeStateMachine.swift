import EthCrypto
import NIOCore

/// The RLPx encryption handshake of one side, as a pure state machine (rlpx-rlp.md §3–4).
///
/// The initiator calls ``makeAuth()`` and sends the packet; both sides feed received bytes to
/// ``receive(_:)`` until it returns a ``Completion``. The recipient sends the completion's `reply` (the ack).
public struct HandshakeStateMachine: Sendable {
    /// The result of a finished handshake.
    public struct Completion: Sendable {
        /// The ack packet to send (recipient only).
        public var reply: [UInt8]?
        /// The session secrets.
        public var secrets: RLPxSecrets
        /// The peer's static public key (its node identity).
        public var remotePublicKey: PublicKey
        /// The format the exchange used.
        public var format: HandshakeFormat
    }

    enum State: Sendable {
        case idle
        case awaitingAuth
        case awaitingAck(authPacket: [UInt8])
        case done
    }

    let staticKey: PrivateKey
    let ephemeralKey: PrivateKey
    let nonce: [UInt8]
    let isInitiator: Bool
    let remote: PublicKey?
    let format: HandshakeFormat
    let acceptLegacy: Bool
    let maxPacketSize: Int
    var state: State

    /// The dialling side, which knows the remote static key from its enode URL.
    /// - Parameters:
    ///   - format: the auth form to send (EIP-8 unless talking to very old peers).
    ///   - maxPacketSize: the largest ack accepted (2048 as geth).
    ///   - ephemeralKey, nonce: random by default; fixed only in tests.
    public init(
        initiator key: PrivateKey,
        remote: PublicKey,
        format: HandshakeFormat = .eip8,
        maxPacketSize: Int = 2048,
        ephemeralKey: PrivateKey = .generate(),
        nonce: [UInt8] = SecureRandom.bytes(32)
    ) {
        staticKey = key
        self.remote = remote
        self.format = format
        self.acceptLegacy = format == .legacy
        self.maxPacketSize = maxPacketSize
        self.ephemeralKey = ephemeralKey
        self.nonce = nonce
        isInitiator = true
        state = .idle
    }

    /// The accepting side.
    /// - Parameters:
    ///   - acceptLegacy: also accept pre-EIP-8 auth packets (answered with a legacy ack).
    ///   - maxPacketSize: the largest auth accepted (2048 as geth).
    public init(
        recipient key: PrivateKey,
        acceptLegacy: Bool = true,
        maxPacketSize: Int = 2048,
        ephemeralKey: PrivateKey = .generate(),
        nonce: [UInt8] = SecureRandom.bytes(32)
    ) {
        staticKey = key
        remote = nil
        format = .eip8
        self.acceptLegacy = acceptLegacy
        self.maxPacketSize = maxPacketSize
        self.ephemeralKey = ephemeralKey
        self.nonce = nonce
        isInitiator = false
        state = .awaitingAuth
    }

    /// Builds the auth packet (initiator only; call once).
    public mutating func makeAuth() throws(RLPxError) -> [UInt8] {
        guard isInitiator, case .idle = state, let remote else {
            preconditionFailure("makeAuth() is for a fresh initiator")
        }
        let signature: [UInt8]
        do {
            let shared = try staticKey.sharedSecret(with: remote)
            signature = try ephemeralKey.sign(hash: zip(shared, nonce).map { $0 ^ $1 })
        } catch {
            throw RLPxError(.handshakeInvalid, "cannot sign auth: \(error)")
        }
        let auth = AuthMessage(signature: signature, initiatorPublicKey: staticKey.publicKey, nonce: nonce)
        let body = format == .eip8 ? auth.encodeEIP8() : auth.encodeLegacy(ephemeralPublicKey: ephemeralKey.publicKey)
        let packet = try HandshakePacket.seal(body, to: remote, format: format)
        state = .awaitingAck(authPacket: packet)
        return packet
    }

    /// Consumes handshake bytes from `buffer`; returns the completion once the awaited packet is in.
    ///
    /// Bytes after the packet (the peer's first frames) are left in `buffer`.
    public mutating func receive(_ buffer: inout ByteBuffer) throws(RLPxError) -> Completion? {
        switch state {
        case .idle, .done:
            return nil
        case .awaitingAuth:
            guard
                let opened = try HandshakePacket.open(
                    &buffer,
                    key: staticKey,
                    legacyLength: HandshakePacket.legacyAuthLength,
                    acceptLegacy: acceptLegacy,
                    maxSize: maxPacketSize
                )
            else { return nil }
            let auth =
                opened.format == .eip8
                ? try AuthMessage.decodeEIP8(opened.plaintext) : try AuthMessage.decodeLegacy(opened.plaintext)
            let remoteEphemeral: PublicKey
            let ephemeralShared: [UInt8]
            do {
                let shared = try staticKey.sharedSecret(with: auth.initiatorPublicKey)
                let signed = zip(shared, auth.nonce).map { $0 ^ $1 }
                remoteEphemeral = try PublicKey(recoveringFrom: auth.signature, hash: signed)
                ephemeralShared = try ephemeralKey.sharedSecret(with: remoteEphemeral)
            } catch {
                throw RLPxError(.handshakeInvalid, "auth signature: \(error)")
            }
            let ack = AckMessage(ephemeralPublicKey: ephemeralKey.publicKey, nonce: nonce)
            let body = opened.format == .eip8 ? ack.encodeEIP8() : ack.encodeLegacy()
            let ackPacket = try HandshakePacket.seal(body, to: auth.initiatorPublicKey, format: opened.format)
            state = .done
            let secrets = RLPxSecrets.derive(
                isInitiator: false,
                ephemeralSharedSecret: ephemeralShared,
                initiatorNonce: auth.nonce,
                recipientNonce: nonce,
                authPacket: opened.wire,
                ackPacket: ackPacket
            )
            return Completion(reply: ackPacket, secrets: secrets, remotePublicKey: auth.initiatorPublicKey, format: opened.format)
        case .awaitingAck(let authPacket):
            guard
                let opened = try HandshakePacket.open(
                    &buffer,
                    key: staticKey,
                    legacyLength: HandshakePacket.legacyAckLength,
                    acceptLegacy: acceptLegacy,
                    maxSize: maxPacketSize
                ), let remote
            else { return nil }
            let ack =
                opened.format == .eip8
                ? try AckMessage.decodeEIP8(opened.plaintext) : try AckMessage.decodeLegacy(opened.plaintext)
            let ephemeralShared: [UInt8]
            do {
                ephemeralShared = try ephemeralKey.sharedSecret(with: ack.ephemeralPublicKey)
            } catch {
                throw RLPxError(.handshakeInvalid, "ack key: \(error)")
            }
            state = .done
            let secrets = RLPxSecrets.derive(
                isInitiator: true,
                ephemeralSharedSecret: ephemeralShared,
                initiatorNonce: nonce,
                recipientNonce: ack.nonce,
                authPacket: authPacket,
                ackPacket: opened.wire
            )
            return Completion(reply: nil, secrets: secrets, remotePublicKey: remote, format: opened.format)
        }
    }
}
