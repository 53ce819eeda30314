import EthCrypto
import NIOCore
import RLP
import TestSupport
import Testing

@testable import DevP2P

@Suite("RLPx frame vectors")
struct FrameVectorTests {
    nonisolated(unsafe) static let file = try! Vectors.object("rlpx-eip8.json")
    nonisolated(unsafe) static let published = try! file.object("published")
    nonisolated(unsafe) static let computed = try! file.object("computed")
    nonisolated(unsafe) static let framesSection = try! computed.object("frames_using_auth2_ack2_secrets")
    nonisolated(unsafe) static let frames = try! framesSection.objects("frames")

    /// The Auth2/Ack2 session seen from A (initiator) or B (recipient).
    static func secrets(initiator: Bool) throws -> RLPxSecrets {
        let ephA = try PrivateKey(bytes: published.hex("ephemeral_private_key_A"))
        let ephB = try PrivateKey(bytes: published.hex("ephemeral_private_key_B"))
        let shared = initiator ? try ephA.sharedSecret(with: ephB.publicKey) : try ephB.sharedSecret(with: ephA.publicKey)
        return RLPxSecrets.derive(
            isInitiator: initiator,
            ephemeralSharedSecret: shared,
            initiatorNonce: try published.hex("nonce_A_initiator"),
            recipientNonce: try published.hex("nonce_B_recipient"),
            authPacket: try published.hex("auth2_eip8_vsn4_hex"),
            ackPacket: try published.hex("ack2_eip8_vsn4_hex")
        )
    }

    @Test("go-ethereum's golden frame (fake MAC hash)")
    func golden() throws {
        let g = try Self.file.object("go_ethereum_frame_golden")
        let secret = try g.hex("aes_secret")
        var s = RLPxSecrets.derive(
            isInitiator: true,
            ephemeralSharedSecret: [],
            initiatorNonce: [],
            recipientNonce: [],
            authPacket: [],
            ackPacket: []
        )
        s = RLPxSecrets(aesSecret: secret, macSecret: try g.hex("mac_secret"), egressMAC: s.egressMAC, ingressMAC: s.ingressMAC)
        var encoder = FrameEncoder(secrets: s)
        encoder.mac.fixedDigest = [UInt8](repeating: 1, count: 32)
        let wire = try encoder.encode(msgID: UInt64(try g.int("msg_code")), payload: try g.hex("payload_hex"), compress: false)
        #expect(Array(wire.readableBytesView) == (try g.hex("wire_bytes_hex")))

        var decoder = FrameDecoder(secrets: s)
        decoder.mac.fixedDigest = [UInt8](repeating: 1, count: 32)
        var input = ByteBuffer(bytes: try g.hex("wire_bytes_hex"))
        #expect(try decoder.next(&input) == (try g.hex("frame_data_hex")))
    }

    @Test("computed Hello/Ping/Pong/Disconnect frames encode byte for byte")
    func encodeAll() throws {
        var encoders = [
            "A": FrameEncoder(secrets: try Self.secrets(initiator: true)),
            "B": FrameEncoder(secrets: try Self.secrets(initiator: false)),
        ]
        for f in Self.frames {
            let who = String(try f.string("sender").prefix(1))
            let frameData = try f.hex("frame_data")
            // frame_data is msg-id ‖ (compressed) payload; feed it uncompressed to check the framing exactly.
            var r = RLPReader(frameData)
            let id = try r.readUInt64()
            let wire = try encoders[who]!.encode(msgID: id, payload: Array(frameData[r.position...]), compress: false)
            let name = try f.string("name")
            #expect(Array(wire.readableBytesView) == (try f.hex("wire_bytes_hex")), "\(name)")
        }
    }

    @Test("computed frames decode through the session (Hello, snappy Ping/Pong/Disconnect)")
    func decodeAll() throws {
        let keyA = try PrivateKey(bytes: Self.published.hex("static_private_key_A"))
        let keyB = try PrivateKey(bytes: Self.published.hex("static_private_key_B"))
        var decoders = [
            "A": FrameDecoder(secrets: try Self.secrets(initiator: false)),  // B reads what A sends
            "B": FrameDecoder(secrets: try Self.secrets(initiator: true)),
        ]
        var sessions = [
            "A": P2PSession(
                configuration: .init(clientID: "B", capabilities: [.init(name: "eth", version: 68, messageCount: 17)]),
                localPublicKey: keyB.publicKey,
                remotePublicKey: keyA.publicKey
            ),
            "B": P2PSession(
                configuration: .init(
                    clientID: "A",
                    capabilities: [
                        .init(name: "eth", version: 68, messageCount: 17),
                        .init(name: "snap", version: 1, messageCount: 8),
                    ]
                ),
                localPublicKey: keyA.publicKey,
                remotePublicKey: keyB.publicKey
            ),
        ]
        for f in Self.frames {
            let who = String(try f.string("sender").prefix(1))
            var input = ByteBuffer(bytes: try f.hex("wire_bytes_hex"))
            let frameData = try #require(try decoders[who]!.next(&input))
            #expect(frameData == (try f.hex("frame_data")))
            let event = try sessions[who]!.receive(frameData)
            switch try f.int("msg_code") {
            case 0:
                guard case .established(let hello, let caps) = event else {
                    Issue.record("no Hello: \(event)")
                    continue
                }
                #expect(hello.encode() == (try f.hex("payload_hex")))
                #expect(caps.map(\.description) == ["eth/68@0x10+17"])
            case 2: #expect(event == .reply(P2PSession.OutboundFrame(msgID: 3, payload: [0xC0], compress: true)))
            case 3: #expect(event == P2PSession.Event.none)
            case 1: #expect(event == .disconnected(.tooManyPeers))
            default: Issue.record("unexpected frame")
            }
        }
    }

    @Test("our snappy-compressed Ping and Disconnect decode as the vectors' frame-data")
    func snappyFrames() throws {
        // Snappy encodings may differ between encoders; compare decoded bytes, not compressed ones.
        #expect(try Snappy.decompress([0x01, 0x00, 0xC0], maxLength: 10) == [0xC0])
        #expect(try Snappy.decompress([0x02, 0x04, 0xC1, 0x04], maxLength: 10) == [0xC1, 0x04])
        for input: [UInt8] in [[], [0xC0], [0xC1, 0x04], Array(repeating: 7, count: 100_000)] {
            #expect(try Snappy.decompress(Snappy.compress(input), maxLength: 1 << 20) == input)
        }
    }

    @Test("snappy checks the declared length before inflating")
    func snappyLimit() throws {
        let big = Snappy.compress([UInt8](repeating: 0, count: 4096))
        #expect(throws: RLPxError.self) { try Snappy.decompress(big, maxLength: 4095) }
        #expect(throws: RLPxError.self) { try Snappy.decompress([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], maxLength: 1 << 30) }
        #expect(throws: RLPxError.self) { try Snappy.decompress([0x05, 0x00, 0x01], maxLength: 100) }
    }

    @Test("EIP-8 Hello packet decodes leniently")
    func eip8Hello() throws {
        let hello = try Hello.decode(Self.published.hex("devp2p_hello_packet_rlp_hex"))
        #expect(hello.protocolVersion == 55)
        #expect(hello.clientID == "kneth/v0.91/plan9")
        #expect(hello.capabilities == [Capability(name: "eth", version: 61), Capability(name: "mork", version: 22)])
        #expect(hello.listenPort == 9999)
        #expect(hello.nodeID == (try Self.computed.hex("static_public_key_A_64")))
    }
}
