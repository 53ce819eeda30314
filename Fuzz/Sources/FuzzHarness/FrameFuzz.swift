import DevP2P
import EthCrypto
import NIOCore

/// The RLPx frame decoder (`FrameDecoder.next`) with valid MAC states.
///
/// The decoder is node B's ingress side of the session that EIP-8's vectors (auth2, ack2) set up. The harness is
/// node A's egress side, written here from the spec (rlpx-rlp.md §5), not with the project's encoder: it encrypts
/// and MACs whatever header and body the fuzzer gives, so inputs get past both MAC checks and the fuzzer explores
/// the size field, padding, partial reads and the frame limit. A flag byte per frame can spoil either MAC.
///
/// Input: one byte of feeding chunk size and the frame limit, then frames of
/// `flags(1) header(16) [length(2)] body`; flag bit 0 sets the body length from the header's size (padded),
/// otherwise the 2-byte length follows; bits 1 and 2 spoil the header or frame MAC.
public enum FrameFuzz {
    /// Node A's egress and node B's ingress keys.
    static let session: (secrets: RLPxSecrets, aes: [UInt8], mac: [UInt8], egress: Keccak256) = {
        let auth = Vectors.bytes(HandshakeVectors.auth2)
        let ack = Vectors.bytes(HandshakeVectors.ack2)
        let shared = try! Vectors.ephemeralB.sharedSecret(with: Vectors.ephemeralA.publicKey)
        let secrets = RLPxSecrets.derive(
            isInitiator: false,
            ephemeralSharedSecret: shared,
            initiatorNonce: Vectors.nonceA,
            recipientNonce: Vectors.nonceB,
            authPacket: auth,
            ackPacket: ack
        )
        // The initiator's egress MAC: keccak(mac-secret ^ recipient-nonce ‖ auth).
        var egress = Keccak256()
        egress.update(zip(secrets.macSecret, Vectors.nonceB).map { $0 ^ $1 })
        egress.update(auth)
        return (secrets, secrets.aesSecret, secrets.macSecret, egress)
    }()

    /// One input, decoded frame by frame.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let limits = [FrameEncoder.maxFrameSize, 1 << 10, 16 << 10, 64]
        var decoder = FrameDecoder(secrets: session.secrets, maxFrameSize: limits[Int(control & 3)])
        var sealer = FrameSealer(aes: session.aes, mac: session.mac, egress: session.egress)
        var wire: [UInt8] = []
        var expected: [[UInt8]?] = []
        // After a frame whose body length is not its padded size, the frame boundaries the decoder sees differ
        // from the sealed ones: no later frame's content is predicted.
        var inStep = true
        while !input.isEmpty && expected.count < 64 {
            let flags = input.byte()
            var header = input.take(16)
            header += [UInt8](repeating: 0, count: 16 - header.count)
            let size = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            let length = flags & 1 == 1 ? min((size + 15) & ~15, 1 << 20) : input.uint16()
            var body = input.take(length)
            body += [UInt8](repeating: 0, count: length - body.count)
            wire += sealer.seal(header: header, body: body, spoilHeader: flags & 2 != 0, spoilFrame: flags & 4 != 0)
            inStep = inStep && flags & 6 == 0 && length == (size + 15) & ~15 && size > 0
            expected.append(inStep ? Array(body[0..<size]) : nil)
        }
        var buffer = ByteBuffer()
        let chunk = Int(control >> 2) * 37
        var fed = 0
        var index = 0
        while fed < wire.count {
            let n = chunk == 0 ? wire.count : min(chunk, wire.count - fed)
            buffer.writeBytes(wire[fed..<(fed + n)])
            fed += n
            while true {
                let frame: [UInt8]?
                do { frame = try decoder.next(&buffer) } catch { return }
                guard let frame else { break }
                if index < expected.count, let want = expected[index] {
                    precondition(frame == want, "frame \(index) decodes to other bytes than were sealed")
                }
                index += 1
            }
        }
    }
}

/// One direction's RLPx egress (rlpx-rlp.md §5.3): AES-256-CTR over header and body, and the header and frame
/// MACs chained through one Keccak-256 state.
struct FrameSealer {
    var cipher: AESStream
    var block: AESStream
    var hash: Keccak256

    init(aes: [UInt8], mac: [UInt8], egress: Keccak256) {
        cipher = try! AESStream(key: aes, mode: .ctr(iv: [UInt8](repeating: 0, count: 16)))
        block = try! AESStream(key: mac, mode: .ecb)
        hash = egress
    }

    /// header-ciphertext ‖ header-mac ‖ frame-ciphertext ‖ frame-mac.
    mutating func seal(header: [UInt8], body: [UInt8], spoilHeader: Bool, spoilFrame: Bool) -> [UInt8] {
        let headerCiphertext = cipher.apply(header)
        let headerSeed = zip(block.apply(Array(hash.digest().prefix(16))), headerCiphertext).map { $0 ^ $1 }
        hash.update(headerSeed)
        var headerMAC = Array(hash.digest().prefix(16))
        let bodyCiphertext = body.isEmpty ? [] : cipher.apply(body)
        hash.update(bodyCiphertext)
        let digest = Array(hash.digest().prefix(16))
        hash.update(zip(block.apply(digest), digest).map { $0 ^ $1 })
        var frameMAC = Array(hash.digest().prefix(16))
        if spoilHeader { headerMAC[0] ^= 1 }
        if spoilFrame { frameMAC[15] ^= 0x80 }
        return headerCiphertext + headerMAC + bodyCiphertext + frameMAC
    }
}

/// The EIP-8 packets the frame session is derived from (rlpx-eip8.json, published).
enum HandshakeVectors {
    static let auth2 =
        "01b304ab7578555167be8154d5cc456f567d5ba302662433674222360f08d5f1534499d3678b513b0fca474f3a514b18e75683032eb63fccb16c156dc6eb2c0b1593f0d84ac74f6e475f1b8d56116b849634a8c458705bf83a626ea0384d4d7341aae591fae42ce6bd5c850bfe0b999a694a49bbbaf3ef6cda61110601d3b4c02ab6c30437257a6e0117792631a4b47c1d52fc0f8f89caadeb7d02770bf999cc147d2df3b62e1ffb2c9d8c125a3984865356266bca11ce7d3a688663a51d82defaa8aad69da39ab6d5470e81ec5f2a7a47fb865ff7cca21516f9299a07b1bc63ba56c7a1a892112841ca44b6e0034dee70c9adabc15d76a54f443593fafdc3b27af8059703f88928e199cb122362a4b35f62386da7caad09c001edaeb5f8a06d2b26fb6cb93c52a9fca51853b68193916982358fe1e5369e249875bb8d0d0ec36f917bc5e1eafd5896d46bd61ff23f1a863a8a8dcd54c7b109b771c8e61ec9c8908c733c0263440e2aa067241aaa433f0bb053c7b31a838504b148f570c0ad62837129e547678c5190341e4f1693956c3bf7678318e2d5b5340c9e488eefea198576344afbdf66db5f51204a6961a63ce072c8926c"
    static let ack2 =
        "01ea0451958701280a56482929d3b0757da8f7fbe5286784beead59d95089c217c9b917788989470b0e330cc6e4fb383c0340ed85fab836ec9fb8a49672712aeabbdfd1e837c1ff4cace34311cd7f4de05d59279e3524ab26ef753a0095637ac88f2b499b9914b5f64e143eae548a1066e14cd2f4bd7f814c4652f11b254f8a2d0191e2f5546fae6055694aed14d906df79ad3b407d94692694e259191cde171ad542fc588fa2b7333313d82a9f887332f1dfc36cea03f831cb9a23fea05b33deb999e85489e645f6aab1872475d488d7bd6c7c120caf28dbfc5d6833888155ed69d34dbdc39c1f299be1057810f34fbe754d021bfca14dc989753d61c413d261934e1a9c67ee060a25eefb54e81a4d14baff922180c395d3f998d70f46f6b58306f969627ae364497e73fc27f6d17ae45a413d322cb8814276be6ddd13b885b201b943213656cde498fa0e9ddc8e0b8f8a53824fbd82254f3e2c17e8eaea009c38b4aa0a3f306e8797db43c25d68e86f262e564086f59a2fc60511c42abfb3057c247a8a8fe4fb3ccbadde17514b7ac8000cdb6a912778426260c47f38919a91f25f4b5ffb455d6aaaf150f7e5529c100ce62d6d92826a71778d809bdf60232ae21ce8a437eca8223f45ac37f6487452ce626f549b3b5fdee26afd2072e4bc75833c2464c805246155289f4"
}
