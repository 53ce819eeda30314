import DevP2P
import EthCrypto
import NIOCore

/// The auth decoders as the accepting side runs them (`HandshakeStateMachine.receive`): ECIES decryption, then
/// the EIP-8 RLP body or the legacy layout.
///
/// Mode 0 feeds the input as wire bytes (the seeds are EIP-8's auth packets, sealed to node B, so mutations of
/// the size prefix and the framing get through); modes 1 and 2 seal the input as an EIP-8 or legacy plaintext to
/// node B first, so the fuzzer reaches the body decoders; mode 3 calls the body decoders directly.
public enum HandshakeAuthFuzz {
    /// One input: the first byte's low two bits pick the mode, the rest is the packet or plaintext.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let body = input.rest()
        switch control & 3 {
        case 0: receive(body, control: control)
        case 1: receive(HandshakeSealing.eip8(body, to: Vectors.staticB.publicKey), control: control)
        case 2: receive(HandshakeSealing.legacy(body, to: Vectors.staticB.publicKey), control: control)
        default:
            _ = try? AuthMessage.decodeEIP8(body)
            _ = try? AuthMessage.decodeLegacy(body)
        }
    }

    static func receive(_ packet: [UInt8], control: UInt8) {
        var machine = HandshakeStateMachine(
            recipient: Vectors.staticB,
            acceptLegacy: control & 4 == 0,
            ephemeralKey: Vectors.ephemeralB,
            nonce: Vectors.nonceB
        )
        HandshakeSealing.feed(packet, chunk: Int(control >> 3)) { buffer throws(RLPxError) in try machine.receive(&buffer) != nil }
    }
}

/// The ack decoders as the dialling side runs them, after it sent its auth; modes as in ``HandshakeAuthFuzz``
/// (the seeds are EIP-8's ack packets, sealed to node A).
public enum HandshakeAckFuzz {
    /// One input: the first byte's low two bits pick the mode, the rest is the packet or plaintext.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let body = input.rest()
        switch control & 3 {
        case 0: receive(body, control: control)
        case 1: receive(HandshakeSealing.eip8(body, to: Vectors.staticA.publicKey), control: control)
        case 2: receive(HandshakeSealing.legacy(body, to: Vectors.staticA.publicKey), control: control)
        default:
            _ = try? AckMessage.decodeEIP8(body)
            _ = try? AckMessage.decodeLegacy(body)
        }
    }

    static func receive(_ packet: [UInt8], control: UInt8) {
        var machine = HandshakeStateMachine(
            initiator: Vectors.staticA,
            remote: Vectors.staticB.publicKey,
            format: control & 4 == 0 ? .eip8 : .legacy,
            ephemeralKey: Vectors.ephemeralA,
            nonce: Vectors.nonceA
        )
        guard (try? machine.makeAuth()) != nil else { preconditionFailure("cannot make the auth packet") }
        HandshakeSealing.feed(packet, chunk: Int(control >> 3)) { buffer throws(RLPxError) in try machine.receive(&buffer) != nil }
    }
}

/// Packet sealing as a peer does it (rlpx-rlp.md §2–3), with fixed randomness.
enum HandshakeSealing {
    static let ephemeral = try! PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [0x11])

    /// An EIP-8 packet: the 2-byte size prefix, then ECIES with the prefix as shared MAC data.
    static func eip8(_ plaintext: [UInt8], to key: PublicKey) -> [UInt8] {
        let size = plaintext.count + ECIES.overhead
        let prefix = [UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)]
        guard let sealed = try? ECIES.encrypt(plaintext, to: key, sharedMACData: prefix, ephemeralKey: ephemeral, iv: Vectors.sealIV) else {
            preconditionFailure("ECIES sealing failed")
        }
        return prefix + sealed
    }

    /// A legacy packet: ECIES alone.
    static func legacy(_ plaintext: [UInt8], to key: PublicKey) -> [UInt8] {
        guard let sealed = try? ECIES.encrypt(plaintext, to: key, ephemeralKey: ephemeral, iv: Vectors.sealIV) else {
            preconditionFailure("ECIES sealing failed")
        }
        return sealed
    }

    /// Feeds `bytes` to `step` in chunks of `chunk` bytes (all at once for 0) until it finishes or throws.
    static func feed(_ bytes: [UInt8], chunk: Int, _ step: (inout ByteBuffer) throws(RLPxError) -> Bool) {
        var buffer = ByteBuffer()
        var fed = 0
        repeat {
            let n = chunk == 0 ? bytes.count : min(chunk * 16, bytes.count - fed)
            buffer.writeBytes(bytes[fed..<(fed + n)])
            fed += n
            do {
                if try step(&buffer) { return }
            } catch {
                return
            }
        } while fed < bytes.count
    }
}
