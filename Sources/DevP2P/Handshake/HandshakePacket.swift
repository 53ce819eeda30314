import EthCrypto
import NIOCore

/// Sealing and opening auth/ack packets in both formats (rlpx-rlp.md §2, §3).
enum HandshakePacket {
    /// Wire length of a legacy auth packet.
    static let legacyAuthLength = 307
    /// Wire length of a legacy ack packet.
    static let legacyAckLength = 210

    /// Encrypts `body` to `recipient`; EIP-8 adds 100–199 zero bytes of padding and the size prefix.
    static func seal(_ body: [UInt8], to recipient: PublicKey, format: HandshakeFormat) throws(RLPxError) -> [UInt8] {
        do {
            switch format {
            case .legacy:
                return try ECIES.encrypt(body, to: recipient)
            case .eip8:
                let padded = body + [UInt8](repeating: 0, count: 100 + Int.random(in: 0..<100))
                let size = padded.count + ECIES.overhead
                let prefix = [UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)]
                return prefix + (try ECIES.encrypt(padded, to: recipient, sharedMACData: prefix))
            }
        } catch {
            throw RLPxError(.handshakeInvalid, "cannot encrypt to the remote key: \(error)")
        }
    }

    /// A complete packet read from the stream.
    struct Opened {
        var plaintext: [UInt8]
        var wire: [UInt8]
        var format: HandshakeFormat
    }

    /// Reads one packet from `buffer` if it is complete, decrypting it with `key`.
    ///
    /// With `acceptLegacy`, a packet starting with 0x04 is first tried as a legacy packet of
    /// `legacyLength` bytes, then as EIP-8 (rlpx-rlp.md §3.4). The EIP-8 size is checked against
    /// `maxSize` before waiting for the body.
    static func open(
        _ buffer: inout ByteBuffer,
        key: PrivateKey,
        legacyLength: Int,
        acceptLegacy: Bool,
        maxSize: Int
    ) throws(RLPxError) -> Opened? {
        guard buffer.readableBytes >= 2, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            return nil
        }
        if acceptLegacy && first == 0x04 {
            guard buffer.readableBytes >= legacyLength,
                let wire = buffer.getBytes(at: buffer.readerIndex, length: legacyLength)
            else { return nil }
            if let plaintext = try? ECIES.decrypt(wire, with: key) {
                buffer.moveReaderIndex(forwardBy: legacyLength)
                return Opened(plaintext: plaintext, wire: wire, format: .legacy)
            }
        }
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self).map(Int.init) else { return nil }
        guard size <= maxSize else {
            throw RLPxError(.handshakeTooLarge, "declared \(size) bytes, limit \(maxSize)")
        }
        guard size > ECIES.overhead else {
            throw RLPxError(.handshakeInvalid, "declared size \(size) is below the ECIES overhead")
        }
        guard buffer.readableBytes >= 2 + size,
            let wire = buffer.readBytes(length: 2 + size)
        else { return nil }
        do {
            let plaintext = try ECIES.decrypt(Array(wire[2...]), with: key, sharedMACData: Array(wire[0..<2]))
            return Opened(plaintext: plaintext, wire: wire, format: .eip8)
        } catch {
            throw RLPxError(.handshakeInvalid, "cannot decrypt: \(error)")
        }
    }
}
