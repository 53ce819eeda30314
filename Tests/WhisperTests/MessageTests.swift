import EthCrypto
import TestSupport
import Testing
import Whisper

private func section(_ name: String) throws -> [String: Any] { try Vectors.object("whisper.json").object(name) }

@Suite("Messages: seal and open")
struct MessageTests {
    static let names: [String] = {
        ((try? section("messages").objects("cases")) ?? []).compactMap { $0["name"] as? String }
    }()

    @Test func allMessageVectorsPresent() { #expect(Self.names.count == 7) }

    @Test("open another implementation's envelope and rebuild it byte for byte", arguments: names)
    func messageVector(_ name: String) throws {
        let c = try #require(try section("messages").objects("cases").first { $0["name"] as? String == name })
        let keys = try c.object("keys")
        let m = try c.object("message")
        let enc = try c.object("encryption_details")
        let env = try c.object("envelope")
        let expected = try c.object("expected_open")
        let envelope = try Envelope(rlp: try env.hex("rlp"))
        #expect(envelope.hash.hex == (try env.string("hash")))

        let symmetric = try c.string("encryption") == "symmetric"
        let openKey: OpeningKey =
            symmetric
            ? .symmetric(try keys.hex("sym_key"))
            : .asymmetric(try PrivateKey(bytes: try keys.hex("recipient_private_key")))
        if let password = keys["password"] as? String {
            #expect(SymmetricCrypto.keyFromPassword(password) == (try keys.hex("sym_key")))
        }
        let opened = try envelope.open(with: openKey)
        #expect(opened.payload == (try m.hex("payload")))
        #expect(opened.padding.count == (try expected.int("padding_length")))
        #expect((opened.signature != nil) == (expected["signature_present"] as? Bool))
        if let signer = expected["recovered_public_key"] as? String {
            #expect(opened.signer?.bytes.hex == signer)
        } else {
            #expect(opened.signer == nil)
        }

        // Rebuild: same plaintext (padding and deterministic signature), same ciphertext, same envelope.
        let signer = try (keys["signer_private_key"] as? String).map { try PrivateKey(bytes: try Hex.decode($0)) }
        let plaintext = try Message.plaintext(payload: try m.hex("payload"), padding: try m.hex("padding"), signer: signer)
        #expect(plaintext == (try m.hex("plaintext")))
        #expect(Message.paddingLength(payloadCount: opened.payload.count, signed: signer != nil) == (try m.int("padding_length")))
        let data: [UInt8]
        if symmetric {
            data = try Message.encrypt(plaintext, with: .symmetric(try keys.hex("sym_key")), aesNonce: try enc.hex("aes_gcm_nonce"))
        } else {
            data = try Message.encrypt(
                plaintext,
                with: .asymmetric(try PublicKey(bytes: try keys.hex("recipient_public_key"))),
                eciesEphemeral: try PrivateKey(bytes: try enc.hex("ecies_ephemeral_private_key")),
                eciesIV: try enc.hex("ecies_iv")
            )
        }
        #expect(data == (try env.hex("data")))
        let sealed = Envelope.seal(
            expiry: UInt32(try env.uint64("expiry")),
            ttl: UInt32(try env.uint64("ttl")),
            topic: try Topic(hex: try env.string("topic")),
            data: data,
            targetPoW: try env.object("seal").double("pow_target")
        )
        #expect(sealed.rlp.hex == (try env.string("rlp")))
    }

    @Test func wrongKeysAreReportedAsSuch() throws {
        let c = try #require(try section("messages").objects("cases").first)
        let envelope = try Envelope(rlp: try c.object("envelope").hex("rlp"))
        #expect(throws: WhisperError.self) { try envelope.open(with: .password("not the password")) }
        #expect(throws: WhisperError.self) { try envelope.open(with: .asymmetric(.generate())) }
        do { _ = try envelope.open(with: .symmetric(SecureRandom.bytes(32))) } catch { #expect(error.code == .wrongKey) }
    }

    @Test func sealOpenRoundTripAllSizeFields() throws {
        let recipient = PrivateKey.generate()
        let signer = PrivateKey.generate()
        for size in [0, 1, 255, 256, 65535, 65536] {
            let payload = SecureRandom.bytes(size)
            for key in [SealingKey.password("pw"), .asymmetric(recipient.publicKey)] {
                let e = try Envelope.seal(payload: payload, topic: Topic(rawValue: 9), key: key, signer: signer, targetPoW: 0)
                let opening: OpeningKey
                if case .asymmetric = key { opening = .asymmetric(recipient) } else { opening = .password("pw") }
                let m = try e.open(with: opening)
                #expect(m.payload == payload)
                #expect(m.signer == signer.publicKey)
                // The plaintext including the signature is a multiple of 256.
                #expect((1 + Message.sizeFieldLength(size) + size + m.padding.count + 65) % 256 == 0)
            }
        }
    }
}
