import EthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Whisper message: the plaintext inside an envelope's Data (whisper §3).
///
/// Layout: `flags(1) ‖ size field(0…3 bytes, LE) ‖ payload ‖ padding ‖ [signature(65)]`.
public struct Message: Sendable, Equatable {
    /// Flag bit 2: a signature is present.
    public static let signatureFlag: UInt8 = 0x04
    /// Bytes of an R‖S‖V signature.
    public static let signatureLength = 65
    /// Bytes of the AES-GCM nonce appended to symmetric Data.
    public static let aesNonceLength = 12
    /// Padding aligns the plaintext to this many bytes.
    public static let paddingBlock = 256

    /// The application payload.
    public var payload: [UInt8]
    /// The padding bytes.
    public var padding: [UInt8]
    /// The 65-byte signature, when signed.
    public var signature: [UInt8]?
    /// The signer recovered from the signature, when signed.
    public var signer: PublicKey?

    public init(payload: [UInt8], padding: [UInt8] = [], signature: [UInt8]? = nil, signer: PublicKey? = nil) {
        self.payload = payload
        self.padding = padding
        self.signature = signature
        self.signer = signer
    }

    /// The padding length a sender uses: 1…256 bytes so that the whole plaintext is a multiple of 256.
    public static func paddingLength(payloadCount: Int, signed: Bool) -> Int {
        let raw = 1 + sizeFieldLength(payloadCount) + payloadCount + (signed ? signatureLength : 0)
        return paddingBlock - raw % paddingBlock
    }

    /// Bytes needed for the little-endian payload size (at least 1).
    public static func sizeFieldLength(_ count: Int) -> Int {
        var s = 1
        var n = count >> 8
        while n > 0 {
            s += 1
            n >>= 8
        }
        return s
    }

    /// Builds the plaintext, signing it with `signer` when given.
    /// - Parameter padding: explicit padding; when nil, random nonzero padding of the standard length.
    public static func plaintext(payload: [UInt8], padding: [UInt8]? = nil, signer: PrivateKey? = nil) throws(WhisperError) -> [UInt8] {
        let sizeLength = sizeFieldLength(payload.count)
        guard sizeLength <= 3 else { throw WhisperError(.invalidArgument, "payload of \(payload.count) bytes is too large") }
        var flags = UInt8(sizeLength)
        if signer != nil { flags |= signatureFlag }
        var out: [UInt8] = [flags]
        for i in 0..<sizeLength { out.append(UInt8(truncatingIfNeeded: payload.count >> (8 * i))) }
        out += payload
        if let padding {
            out += padding
        } else {
            var pad = SecureRandom.bytes(paddingLength(payloadCount: payload.count, signed: signer != nil))
            while pad.allSatisfy({ $0 == 0 }) { pad = SecureRandom.bytes(pad.count) }
            out += pad
        }
        if let signer {
            do { out += try signer.sign(hash: Keccak256.hash(out)) } catch {
                throw WhisperError(.invalidArgument, "signing failed: \(error)")
            }
        }
        return out
    }

    /// Parses a decrypted plaintext (status-go's strict rules) and recovers the signer.
    public init(plaintext raw: [UInt8]) throws(WhisperError) {
        guard let flags = raw.first else { throw WhisperError(.invalidMessage, "empty plaintext") }
        var end = raw.count
        var signature: [UInt8]?
        var signer: PublicKey?
        if flags & Message.signatureFlag != 0 {
            end = raw.count - Message.signatureLength
            guard end > 1 else { throw WhisperError(.invalidMessage, "signed message too short", offset: 0) }
            let sig = Array(raw[end...])
            do {
                signer = try PublicKey(recoveringFrom: sig, hash: Keccak256.hash(raw[0..<end]))
            } catch {
                throw WhisperError(.invalidMessage, "signature does not recover a key: \(error)", offset: end)
            }
            signature = sig
        }
        var begin = 1
        let sizeLength = Int(flags & 0x03)
        var payload: [UInt8] = []
        if sizeLength > 0 {
            guard end >= begin + sizeLength else {
                throw WhisperError(.invalidMessage, "size field runs past the message", offset: begin)
            }
            var size = 0
            for i in 0..<sizeLength { size |= Int(raw[begin + i]) << (8 * i) }
            begin += sizeLength
            guard begin + size <= end else {
                throw WhisperError(.invalidMessage, "payload size \(size) runs past the message", offset: begin)
            }
            payload = Array(raw[begin..<(begin + size)])
            begin += size
        }
        self.init(payload: payload, padding: Array(raw[begin..<end]), signature: signature, signer: signer)
    }

    /// Encrypts a plaintext into envelope Data.
    /// - Parameters:
    ///   - aesNonce: fixed 12-byte GCM nonce (tests); random when nil.
    ///   - eciesEphemeral, eciesIV: fixed ECIES randomness (tests); random when nil.
    public static func encrypt(
        _ plaintext: [UInt8],
        with key: SealingKey,
        aesNonce: [UInt8]? = nil,
        eciesEphemeral: PrivateKey? = nil,
        eciesIV: [UInt8]? = nil
    ) throws(WhisperError) -> [UInt8] {
        switch key {
        case .symmetric(let k):
            guard k.count == 32, k.contains(where: { $0 != 0 }) else {
                throw WhisperError(.invalidArgument, "a symmetric key is 32 bytes, not all zero")
            }
            var nonce = aesNonce ?? SecureRandom.bytes(aesNonceLength)
            while aesNonce == nil && nonce.allSatisfy({ $0 == 0 }) { nonce = SecureRandom.bytes(aesNonceLength) }
            do { return try SymmetricCrypto.aesGCMSeal(plaintext, key: k, nonce: nonce) + nonce } catch {
                throw WhisperError(.invalidArgument, "\(error)")
            }
        case .asymmetric(let pub):
            do {
                return try ECIES.encrypt(
                    plaintext,
                    to: pub,
                    ephemeralKey: eciesEphemeral ?? .generate(),
                    iv: eciesIV ?? SecureRandom.bytes(16)
                )
            } catch {
                throw WhisperError(.invalidArgument, "\(error)")
            }
        }
    }

    /// Decrypts envelope Data and parses the message; ``WhisperError/Code/wrongKey`` when the key does not open it.
    public static func open<D: Collection>(_ data: D, with key: OpeningKey) throws(WhisperError) -> Message
    where D.Element == UInt8 {
        let bytes = Array(data)
        let plaintext: [UInt8]
        switch key {
        case .symmetric(let k):
            guard bytes.count > aesNonceLength + 16 else {
                throw WhisperError(.wrongKey, "data of \(bytes.count) bytes is too short for AES-GCM")
            }
            let nonce = Array(bytes.suffix(aesNonceLength))
            do { plaintext = try SymmetricCrypto.aesGCMOpen(bytes.dropLast(aesNonceLength), key: k, nonce: nonce) } catch {
                throw WhisperError(.wrongKey, "the symmetric key does not open this message")
            }
        case .asymmetric(let priv):
            do { plaintext = try ECIES.decrypt(bytes, with: priv) } catch {
                throw WhisperError(.wrongKey, "the private key does not open this message (\(error))")
            }
        }
        return try Message(plaintext: plaintext)
    }
}

extension Envelope {
    /// Opens this envelope's message with `key`.
    public func open(with key: OpeningKey) throws(WhisperError) -> Message {
        try Message.open(data, with: key)
    }

    /// Seals a message into a new envelope: sign → encrypt → envelope → proof of work (go-ethereum's order).
    public static func seal(
        payload: [UInt8],
        topic: Topic,
        key: SealingKey,
        signer: PrivateKey? = nil,
        ttl: UInt32 = 50,
        targetPoW: Double = 0.2,
        now: UInt32 = currentUnixTime()
    ) throws(WhisperError) -> Envelope {
        let plaintext = try Message.plaintext(payload: payload, signer: signer)
        let data = try Message.encrypt(plaintext, with: key)
        return Envelope.seal(expiry: now &+ ttl, ttl: ttl, topic: topic, data: data, targetPoW: targetPoW)
    }
}

/// The current UNIX time in seconds, truncated to 32 bits as the protocol uses it.
public func currentUnixTime() -> UInt32 {
    UInt32(truncatingIfNeeded: Int(ContinuousClockSeconds.now()))
}

enum ContinuousClockSeconds {
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
