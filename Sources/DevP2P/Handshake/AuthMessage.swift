import EthCrypto
import RLP

/// The initiator's auth message body (rlpx-rlp.md §3.3, §3.4).
public struct AuthMessage: Sendable, Equatable {
    /// Recoverable signature of `static-shared-secret ^ nonce` by the initiator's ephemeral key.
    public var signature: [UInt8]
    /// The initiator's static public key.
    public var initiatorPublicKey: PublicKey
    /// The initiator's 32-byte nonce.
    public var nonce: [UInt8]
    /// auth-vsn (4; ignored on receipt).
    public var version: UInt64

    /// Plaintext length of a legacy auth.
    public static let legacyLength = 194

    /// An auth message.
    public init(signature: [UInt8], initiatorPublicKey: PublicKey, nonce: [UInt8], version: UInt64 = 4) {
        self.signature = signature
        self.initiatorPublicKey = initiatorPublicKey
        self.nonce = nonce
        self.version = version
    }

    /// The EIP-8 RLP body `[sig, pubkey, nonce, vsn]`.
    public func encodeEIP8() -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 180)
        w.list { w in
            w.append(bytes: signature)
            w.append(bytes: initiatorPublicKey.bytes)
            w.append(bytes: nonce)
            w.append(uint: version)
        }
        return w.bytes
    }

    /// The legacy 194-byte plaintext: `sig ‖ keccak(ephemeral pub) ‖ pubkey ‖ nonce ‖ 0x00`.
    public func encodeLegacy(ephemeralPublicKey: PublicKey) -> [UInt8] {
        signature + Keccak256.hash(ephemeralPublicKey.bytes) + initiatorPublicKey.bytes + nonce + [0]
    }

    /// Decodes an EIP-8 body leniently: extra list elements and trailing bytes (padding) are ignored.
    public static func decodeEIP8(_ plaintext: [UInt8]) throws(RLPxError) -> AuthMessage {
        do {
            var outer = RLPReader(plaintext)
            var list = try outer.readList()
            let sig = Array(try list.readBytes(count: 65))
            let key = try list.readBytes(count: 64)
            let nonce = Array(try list.readBytes(count: 32))
            let version = try list.readUInt64()
            return AuthMessage(signature: sig, initiatorPublicKey: try PublicKey(bytes: key), nonce: nonce, version: version)
        } catch let e as RLPError {
            throw RLPxError(.handshakeInvalid, "auth body: \(e)")
        } catch {
            throw RLPxError(.handshakeInvalid, "auth body: \(error)")
        }
    }

    /// Decodes a legacy 194-byte plaintext.
    public static func decodeLegacy(_ plaintext: [UInt8]) throws(RLPxError) -> AuthMessage {
        guard plaintext.count == legacyLength else {
            throw RLPxError(.handshakeInvalid, "legacy auth is \(plaintext.count) bytes, not \(legacyLength)")
        }
        do {
            let key = try PublicKey(bytes: plaintext[97..<161])
            return AuthMessage(
                signature: Array(plaintext[0..<65]),
                initiatorPublicKey: key,
                nonce: Array(plaintext[161..<193]),
                version: 4
            )
        } catch {
            throw RLPxError(.handshakeInvalid, "legacy auth: \(error)")
        }
    }
}
