import Crypto
import CryptoExtras
import EthCrypto

/// One direction's RLPx MAC state: a running Keccak-256 sponge and the AES-256 MAC key (rlpx-rlp.md §5.3).
struct FrameMAC: Sendable {
    var hash: Keccak256
    let key: SymmetricKey
    /// Replaces every digest (go-ethereum's golden frame test uses such a fake hash); nil in real use.
    var fixedDigest: [UInt8]?

    init(macSecret: [UInt8], initial: Keccak256) {
        self.hash = initial
        self.key = SymmetricKey(data: macSecret)
        self.fixedDigest = nil
    }

    func digest16() -> [UInt8] {
        if let fixedDigest { return Array(fixedDigest.prefix(16)) }
        return Array(hash.digest().prefix(16))
    }

    func encryptBlock(_ block: [UInt8]) -> [UInt8] {
        var b = block
        do {
            try AES.permute(&b, key: key)
        } catch {
            preconditionFailure("AES block with a 32-byte key failed: \(error)")
        }
        return b
    }

    mutating func absorb(_ bytes: [UInt8]) {
        if fixedDigest == nil { hash.update(bytes) }
    }

    /// Absorbs the seed derived from a header ciphertext and returns the header MAC.
    mutating func headerMAC(_ headerCiphertext: UnsafeRawBufferPointer) -> [UInt8] {
        var seed = encryptBlock(digest16())
        for i in 0..<16 { seed[i] ^= headerCiphertext[i] }
        absorb(seed)
        return digest16()
    }

    /// Absorbs a frame ciphertext (padding included) and returns the frame MAC.
    mutating func frameMAC(_ frameCiphertext: UnsafeRawBufferPointer) -> [UInt8] {
        if fixedDigest == nil { hash.update(frameCiphertext) }
        let t = digest16()
        var seed = encryptBlock(t)
        for i in 0..<16 { seed[i] ^= t[i] }
        absorb(seed)
        return digest16()
    }
}
