import EthCrypto
import RLP

/// The recipient's ack message body (rlpx-rlp.md §3.3, §3.4).
public struct AckMessage: Sendable, Equatable {
    /// The recipient's ephemeral public key.
    public var ephemeralPublicKey: PublicKey
    /// The recipient's 32-byte nonce.
    public var nonce: [UInt8]
    /// ack-vsn (4; ignored on receipt).
    public var version: UInt64

    /// Plaintext length of a legacy ack.
    public static let legacyLength = 97

    /// An ack message.
    public init(ephemeralPublicKey: PublicKey, nonce: [UInt8], version: UInt64 = 4) {
        self.ephemeralPublicKey = ephemeralPublicKey
        self.nonce = nonce
        self.version = version
    }

    /// The EIP-8 RLP body `[ephemeral pubkey, nonce, vsn]`.
    public func encodeEIP8() -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 110)
        w.list { w in
            w.append(bytes: ephemeralPublicKey.bytes)
            w.append(bytes: nonce)
            w.append(uint: version)
        }
        return w.bytes
    }

    /// The legacy 97-byte plaintext: `ephemeral pubkey ‖ nonce ‖ 0x00`.
    public func encodeLegacy() -> [UInt8] { ephemeralPublicKey.bytes + nonce + [0] }

    /// Decodes an EIP-8 body leniently: extra list elements and trailing bytes (padding) are ignored.
    public static func decodeEIP8(_ plaintext: [UInt8]) throws(RLPxError) -> AckMessage {
        do {
            var outer = RLPReader(plaintext)
            var list = try outer.readList()
            let key = try list.readBytes(count: 64)
            let nonce = Array(try list.readBytes(count: 32))
            let version = try list.readUInt64()
            return AckMessage(ephemeralPublicKey: try PublicKey(bytes: key), nonce: nonce, version: version)
        } catch let e as RLPError {
            throw RLPxError(.handshakeInvalid, "ack body: \(e)")
        } catch {
            throw RLPxError(.handshakeInvalid, "ack body: \(error)")
        }
    }

    /// Decodes a legacy 97-byte plaintext.
    public static func decodeLegacy(_ plaintext: [UInt8]) throws(RLPxError) -> AckMessage {
        guard plaintext.count == legacyLength else {
            throw RLPxError(.handshakeInvalid, "legacy ack is \(plaintext.count) bytes, not \(legacyLength)")
        }
        do {
            return AckMessage(ephemeralPublicKey: try PublicKey(bytes: plaintext[0..<64]), nonce: Array(plaintext[64..<96]))
        } catch {
            throw RLPxError(.handshakeInvalid, "legacy ack: \(error)")
        }
    }
}
