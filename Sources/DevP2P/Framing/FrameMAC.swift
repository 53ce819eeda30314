import EthCrypto

/// One 16-byte MAC value, held as two words in memory order (XOR and compare need no byte order).
struct MAC16: Equatable, Sendable {
    var low: UInt64
    var high: UInt64

    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// The first 16 bytes at `bytes`.
    init(_ bytes: UnsafeRawBufferPointer) {
        low = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        high = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
    }

    static func ^ (a: MAC16, b: MAC16) -> MAC16 { MAC16(low: a.low ^ b.low, high: a.high ^ b.high) }

    /// Equality without an early exit.
    func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let other = MAC16(bytes)
        return (low ^ other.low) | (high ^ other.high) == 0
    }

    /// Writes the 16 bytes at `out`.
    func write(to out: UnsafeMutableRawBufferPointer) {
        out.storeBytes(of: low, toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: high, toByteOffset: 8, as: UInt64.self)
    }
}

/// One direction's RLPx MAC state: a running Keccak-256 sponge and the AES-256 MAC key (rlpx-rlp.md §5.3).
struct FrameMAC: Sendable {
    var hash: Keccak256
    var block: AESStream
    /// The digest of `hash` as it is now: each header MAC starts from the digest the frame MAC
    /// before it ended with, so one of the four digests per frame is saved.
    var current: MAC16?
    /// Replaces every digest (go-ethereum's golden frame test uses such a fake hash); nil in real use.
    var fixedDigest: [UInt8]? {
        didSet { current = nil }
    }

    init(macSecret: [UInt8], initial: Keccak256) {
        self.hash = initial
        // The MAC secret is 32 bytes (Keccak-256 output); ECB takes no IV.
        self.block = try! AESStream(key: macSecret, mode: .ecb)
        self.fixedDigest = nil
    }

    mutating func digest16() -> MAC16 {
        if let current { return current }
        var d = MAC16(low: 0, high: 0)
        if let fixedDigest {
            fixedDigest.withUnsafeBytes { d = MAC16($0) }
        } else {
            withUnsafeMutableBytes(of: &d) { hash.digest(into: $0) }
        }
        current = d
        return d
    }

    mutating func encryptBlock(_ value: MAC16) -> MAC16 {
        var b = value
        withUnsafeMutableBytes(of: &b) { block.apply($0) }
        return b
    }

    mutating func absorb(_ value: MAC16) {
        guard fixedDigest == nil else { return }
        var v = value
        withUnsafeBytes(of: &v) { hash.update($0) }
        current = nil
    }

    /// Absorbs the seed derived from a header ciphertext and returns the header MAC.
    mutating func headerMAC(_ headerCiphertext: UnsafeRawBufferPointer) -> MAC16 {
        absorb(encryptBlock(digest16()) ^ MAC16(headerCiphertext))
        return digest16()
    }

    /// Absorbs a frame ciphertext (padding included) and returns the frame MAC.
    mutating func frameMAC(_ frameCiphertext: UnsafeRawBufferPointer) -> MAC16 {
        if fixedDigest == nil {
            hash.update(frameCiphertext)
            current = nil
        }
        let t = digest16()
        absorb(encryptBlock(t) ^ t)
        return digest16()
    }
}
