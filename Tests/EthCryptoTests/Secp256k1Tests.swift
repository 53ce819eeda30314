import EthCrypto
import TestSupport
import Testing

@Suite("secp256k1, ECIES, symmetric primitives")
struct Secp256k1Tests {
    @Test func publicKeysFromEIP8StaticKeys() throws {
        let v = try Vectors.object("rlpx-eip8.json")
        let published = try v.object("published")
        let computed = try v.object("computed")
        let a = try PrivateKey(bytes: try published.hex("static_private_key_A"))
        let b = try PrivateKey(bytes: try published.hex("static_private_key_B"))
        #expect(a.publicKey.bytes.hex == (try computed.string("static_public_key_A_64")))
        #expect(b.publicKey.bytes.hex == (try computed.string("static_public_key_B_64")))
        #expect(b.publicKey.nodeID.hex == "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7")
    }

    @Test func ecdhReturnsTheRawXCoordinate() throws {
        let v = try Vectors.object("rlpx-eip8.json")
        let published = try v.object("published")
        let computed = try v.object("computed")
        let a = try PrivateKey(bytes: try published.hex("static_private_key_A"))
        let b = try PrivateKey(bytes: try published.hex("static_private_key_B"))
        let expected = try computed.string("static_shared_secret_ecdh_x")
        #expect(try a.sharedSecret(with: b.publicKey).hex == expected)
        #expect(try b.sharedSecret(with: a.publicKey).hex == expected)
        let ea = try PrivateKey(bytes: try published.hex("ephemeral_private_key_A"))
        let eb = try PrivateKey(bytes: try published.hex("ephemeral_private_key_B"))
        #expect(try ea.sharedSecret(with: eb.publicKey).hex == (try computed.string("ephemeral_key_ecdh_x")))
    }

    @Test func authSignatureRecoversTheEphemeralKey() throws {
        let v = try Vectors.object("rlpx-eip8.json")
        let published = try v.object("published")
        let computed = try v.object("computed")
        let ea = try PrivateKey(bytes: try published.hex("ephemeral_private_key_A"))
        let message = try computed.hex("signed_message_static_shared_secret_xor_nonce_A")
        // The published signature (go-ethereum's test) recovers ephemeral key A...
        let published65 = try published.hex("auth_signature_from_go_ethereum_test")
        #expect(try PublicKey(recoveringFrom: published65, hash: message) == ea.publicKey)
        // ...and so does ours (deterministic RFC 6979, so not necessarily the same bytes).
        let signature = try ea.sign(hash: message)
        #expect(signature == (try ea.sign(hash: message)))
        #expect(signature[64] <= 1)
        #expect(try PublicKey(recoveringFrom: signature, hash: message) == ea.publicKey)
    }

    @Test func recoveryRejectsV27() throws {
        let key = PrivateKey.generate()
        var sig = try key.sign(hash: Keccak256.hash([1, 2, 3]))
        sig[64] += 27
        #expect(throws: CryptoError.self) { try PublicKey(recoveringFrom: sig, hash: Keccak256.hash([1, 2, 3])) }
    }

    @Test func invalidKeysAreRejected() {
        #expect(throws: CryptoError.self) { try PrivateKey(bytes: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: CryptoError.self) { try PrivateKey(bytes: [UInt8](repeating: 0xFF, count: 32)) }
        #expect(throws: CryptoError.self) { try PublicKey(bytes: [UInt8](repeating: 1, count: 64)) }
    }

    @Test func eciesDecryptsEveryEIP8HandshakePacket() throws {
        let v = try Vectors.object("rlpx-eip8.json")
        let published = try v.object("published")
        let computed = try v.object("computed")
        let keys = ["static_key_A": try published.hex("static_private_key_A"), "static_key_B": try published.hex("static_private_key_B")]
        let packets = try computed.objects("auth_packets") + computed.objects("ack_packets")
        #expect(packets.count == 6)
        for p in packets {
            let bytes = try p.hex("packet_hex")
            let key = try PrivateKey(bytes: try #require(keys[try p.string("decrypt_with")]))
            let eip8 = try p.string("format") != "pre-eip8"
            let body = eip8 ? Array(bytes[2...]) : bytes
            let s2 = eip8 ? Array(bytes[0..<2]) : []
            let plain = try ECIES.decrypt(body, with: key, sharedMACData: s2)
            let ecies = try p.object("ecies")
            if let expected = ecies["plaintext"] as? String { #expect(plain.hex == expected, "\(p["label"] ?? "")") }
            // The shared MAC data matters: without the size prefix an EIP-8 packet must fail.
            if eip8 { #expect(throws: CryptoError.self) { try ECIES.decrypt(body, with: key) } }
        }
    }

    @Test func eciesRoundTripAndTamperDetection() throws {
        let key = PrivateKey.generate()
        let message = Array("attack at dawn".utf8)
        var c = try ECIES.encrypt(message, to: key.publicKey, sharedMACData: [0, 1])
        #expect(c.count == message.count + ECIES.overhead)
        #expect(try ECIES.decrypt(c, with: key, sharedMACData: [0, 1]) == message)
        c[70] ^= 1
        #expect(throws: CryptoError.self) { try ECIES.decrypt(c, with: key, sharedMACData: [0, 1]) }
        #expect(throws: CryptoError.self) { try ECIES.decrypt(Array(c.prefix(50)), with: key) }
    }

    @Test func passwordKeys() throws {
        let cases = try Vectors.object("whisper.json").object("password_keys").objects("cases")
        for c in cases {
            #expect(try c.int("iterations") == SymmetricCrypto.passwordIterations)
            #expect(SymmetricCrypto.keyFromPassword(try c.string("password")).hex == (try c.string("key")))
        }
    }

    @Test func aesGCMRoundTripAndWrongKey() throws {
        let key = SecureRandom.bytes(32)
        let nonce = SecureRandom.bytes(12)
        let sealed = try SymmetricCrypto.aesGCMSeal([1, 2, 3], key: key, nonce: nonce)
        #expect(sealed.count == 3 + 16)
        #expect(try SymmetricCrypto.aesGCMOpen(sealed[...], key: key, nonce: nonce) == [1, 2, 3])
        #expect(throws: CryptoError.self) { try SymmetricCrypto.aesGCMOpen(sealed[...], key: SecureRandom.bytes(32), nonce: nonce) }
    }

    @Test func hexParsingReportsTheOffset() {
        #expect(throws: Hex.DecodingError(offset: 3, reason: "odd number of digits (3)")) { try Hex.decode("abc") }
        #expect(throws: Hex.DecodingError(offset: 2, reason: "not a hex digit")) { try Hex.decode("0xabzz") }
        #expect((try? Hex.decode("0xABcd")) == [0xAB, 0xCD])
        #expect((try? Hex.decode("  0x00ff\r\n")) == [0x00, 0xFF])
        #expect((try? Hex.decode("")) == [])
        #expect(throws: Hex.DecodingError(offset: 0, reason: "not a hex digit")) { try Hex.decode("g0") }
    }

    /// Encoding takes the buffer path for arrays and slices and the general path for other collections.
    @Test func hexEncodingOfContiguousAndOtherCollections() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA5, 0xFF]
        #expect(bytes.hex == "000fa5ff")
        #expect(bytes[1...2].hex == "0fa5")
        #expect(repeatElement(UInt8(0xAB), count: 3).hex == "ababab")
        #expect([UInt8]().hex == "")
    }
}
