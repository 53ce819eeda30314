/// Ethereum's Keccak-256 (original Keccak padding 0x01, not FIPS-202 SHA3-256's 0x06).
///
/// Incremental and copyable: ``digest()`` reads the hash of everything absorbed so far
/// without finalizing the running state, as the RLPx MACs require.
public struct Keccak256: Sendable {
    /// Bytes absorbed per permutation (1088-bit rate).
    public static let rate = 136

    /// The 25 lanes of the Keccak-f[1600] state.
    var state: InlineArray<25, UInt64>
    /// Bytes waiting for a full block.
    var queue: InlineArray<136, UInt8>
    /// How many bytes of `queue` are used.
    var queued: Int

    /// A fresh hasher.
    public init() {
        state = InlineArray(repeating: 0)
        queue = InlineArray(repeating: 0)
        queued = 0
    }

    /// The hash of `bytes`.
    public static func hash<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var h = Keccak256()
        h.update(bytes)
        return h.finalize()
    }

    /// The hash of `bytes` (non-generic fast path).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var h = Keccak256()
        bytes.withUnsafeBytes { h.update($0) }
        return h.finalize()
    }

    /// The hash of `bytes` (non-generic fast path).
    public static func hash(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var h = Keccak256()
        bytes.withUnsafeBytes { h.update($0) }
        return h.finalize()
    }

    /// Absorbs `bytes` (non-generic fast path).
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Absorbs `bytes` (non-generic fast path).
    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Absorbs `bytes`.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { update($0) }
    }

    /// Absorbs raw bytes.
    public mutating func update(_ input: UnsafeRawBufferPointer) {
        var offset = 0
        let count = input.count
        guard count > 0 else { return }
        if queued > 0 {
            let take = min(Self.rate - queued, count)
            let at = queued
            withUnsafeMutableBytes(of: &queue) { q in
                q.baseAddress!.advanced(by: at).copyMemory(from: input.baseAddress!, byteCount: take)
            }
            queued += take
            offset = take
            if queued < Self.rate { return }
            absorbQueue()
        }
        let whole = (count - offset) / Self.rate * Self.rate
        if whole > 0 {
            absorbBlocks(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + whole)]))
            offset += whole
        }
        let rest = count - offset
        if rest > 0 {
            let from = offset
            withUnsafeMutableBytes(of: &queue) { q in
                q.baseAddress!.copyMemory(from: input.baseAddress!.advanced(by: from), byteCount: rest)
            }
        }
        queued = rest
    }

    mutating func absorbQueue() {
        let q = queue
        withUnsafeBytes(of: q) { absorbBlocks(UnsafeRawBufferPointer(rebasing: $0[0..<Self.rate])) }
        queued = 0
    }

    /// Pads, permutes and returns the 32-byte hash; the hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        for i in queued..<Self.rate { queue[i] = 0 }
        queue[queued] ^= 0x01
        queue[Self.rate - 1] ^= 0x80
        absorbQueue()
        var out = [UInt8](repeating: 0, count: 32)
        for lane in 0..<4 {
            let v = state[lane]
            for j in 0..<8 { out[lane * 8 + j] = UInt8(truncatingIfNeeded: v >> (UInt64(j) * 8)) }
        }
        return out
    }

    /// The hash of everything absorbed so far; the running state is left unchanged.
    public func digest() -> [UInt8] {
        var copy = self
        return copy.finalize()
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 - n)) }

    /// XORs each 136-byte block of `input` (a whole number of blocks) into the state and
    /// applies Keccak-f[1600], keeping the lanes in registers across blocks.
    mutating func absorbBlocks(_ input: UnsafeRawBufferPointer) {
        Keccak256.roundConstants.withUnsafeBufferPointer { rc in
        withUnsafeMutableBytes(of: &state) { raw in
            let s = raw.bindMemory(to: UInt64.self)
            var a0 = s[0]
            var a1 = s[1]
            var a2 = s[2]
            var a3 = s[3]
            var a4 = s[4]
            var a5 = s[5]
            var a6 = s[6]
            var a7 = s[7]
            var a8 = s[8]
            var a9 = s[9]
            var a10 = s[10]
            var a11 = s[11]
            var a12 = s[12]
            var a13 = s[13]
            var a14 = s[14]
            var a15 = s[15]
            var a16 = s[16]
            var a17 = s[17]
            var a18 = s[18]
            var a19 = s[19]
            var a20 = s[20]
            var a21 = s[21]
            var a22 = s[22]
            var a23 = s[23]
            var a24 = s[24]
            var offset = 0
            while offset < input.count {
                a0 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 0, as: UInt64.self))
                a1 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
                a2 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
                a3 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
                a4 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 32, as: UInt64.self))
                a5 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 40, as: UInt64.self))
                a6 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 48, as: UInt64.self))
                a7 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 56, as: UInt64.self))
                a8 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 64, as: UInt64.self))
                a9 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 72, as: UInt64.self))
                a10 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 80, as: UInt64.self))
                a11 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 88, as: UInt64.self))
                a12 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 96, as: UInt64.self))
                a13 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 104, as: UInt64.self))
                a14 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 112, as: UInt64.self))
                a15 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 120, as: UInt64.self))
                a16 ^= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset + 128, as: UInt64.self))
                for round in 0..<24 {
                    let c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
                    let c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
                    let c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
                    let c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
                    let c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
                    let d0 = c4 ^ Keccak256.rotl(c1, 1)
                    let d1 = c0 ^ Keccak256.rotl(c2, 1)
                    let d2 = c1 ^ Keccak256.rotl(c3, 1)
                    let d3 = c2 ^ Keccak256.rotl(c4, 1)
                    let d4 = c3 ^ Keccak256.rotl(c0, 1)
                    let b0 = a0 ^ d0
                    let b1 = Keccak256.rotl(a6 ^ d1, 44)
                    let b2 = Keccak256.rotl(a12 ^ d2, 43)
                    let b3 = Keccak256.rotl(a18 ^ d3, 21)
                    let b4 = Keccak256.rotl(a24 ^ d4, 14)
                    let b5 = Keccak256.rotl(a3 ^ d3, 28)
                    let b6 = Keccak256.rotl(a9 ^ d4, 20)
                    let b7 = Keccak256.rotl(a10 ^ d0, 3)
                    let b8 = Keccak256.rotl(a16 ^ d1, 45)
                    let b9 = Keccak256.rotl(a22 ^ d2, 61)
                    let b10 = Keccak256.rotl(a1 ^ d1, 1)
                    let b11 = Keccak256.rotl(a7 ^ d2, 6)
                    let b12 = Keccak256.rotl(a13 ^ d3, 25)
                    let b13 = Keccak256.rotl(a19 ^ d4, 8)
                    let b14 = Keccak256.rotl(a20 ^ d0, 18)
                    let b15 = Keccak256.rotl(a4 ^ d4, 27)
                    let b16 = Keccak256.rotl(a5 ^ d0, 36)
                    let b17 = Keccak256.rotl(a11 ^ d1, 10)
                    let b18 = Keccak256.rotl(a17 ^ d2, 15)
                    let b19 = Keccak256.rotl(a23 ^ d3, 56)
                    let b20 = Keccak256.rotl(a2 ^ d2, 62)
                    let b21 = Keccak256.rotl(a8 ^ d3, 55)
                    let b22 = Keccak256.rotl(a14 ^ d4, 39)
                    let b23 = Keccak256.rotl(a15 ^ d0, 41)
                    let b24 = Keccak256.rotl(a21 ^ d1, 2)
                    a0 = b0 ^ (~b1 & b2)
                    a1 = b1 ^ (~b2 & b3)
                    a2 = b2 ^ (~b3 & b4)
                    a3 = b3 ^ (~b4 & b0)
                    a4 = b4 ^ (~b0 & b1)
                    a5 = b5 ^ (~b6 & b7)
                    a6 = b6 ^ (~b7 & b8)
                    a7 = b7 ^ (~b8 & b9)
                    a8 = b8 ^ (~b9 & b5)
                    a9 = b9 ^ (~b5 & b6)
                    a10 = b10 ^ (~b11 & b12)
                    a11 = b11 ^ (~b12 & b13)
                    a12 = b12 ^ (~b13 & b14)
                    a13 = b13 ^ (~b14 & b10)
                    a14 = b14 ^ (~b10 & b11)
                    a15 = b15 ^ (~b16 & b17)
                    a16 = b16 ^ (~b17 & b18)
                    a17 = b17 ^ (~b18 & b19)
                    a18 = b18 ^ (~b19 & b15)
                    a19 = b19 ^ (~b15 & b16)
                    a20 = b20 ^ (~b21 & b22)
                    a21 = b21 ^ (~b22 & b23)
                    a22 = b22 ^ (~b23 & b24)
                    a23 = b23 ^ (~b24 & b20)
                    a24 = b24 ^ (~b20 & b21)
                    a0 ^= rc[round]
                }
                offset += Self.rate
            }
            s[0] = a0
            s[1] = a1
            s[2] = a2
            s[3] = a3
            s[4] = a4
            s[5] = a5
            s[6] = a6
            s[7] = a7
            s[8] = a8
            s[9] = a9
            s[10] = a10
            s[11] = a11
            s[12] = a12
            s[13] = a13
            s[14] = a14
            s[15] = a15
            s[16] = a16
            s[17] = a17
            s[18] = a18
            s[19] = a19
            s[20] = a20
            s[21] = a21
            s[22] = a22
            s[23] = a23
            s[24] = a24
        }
        }
    }

    /// The 24 round constants (iota step).
    static let roundConstants: [UInt64] = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A, 0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
}
