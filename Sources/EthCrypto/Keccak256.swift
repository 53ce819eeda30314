import CPrimitives

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
        withUnsafeMutableBytes(of: &state) { lanes in
            withUnsafeBytes(of: &queue) { q in
                cprim_keccak_f1600_absorb136(lanes.baseAddress!.assumingMemoryBound(to: UInt64.self), q.baseAddress!, 1)
            }
        }
        queued = 0
    }

    /// Pads, permutes and returns the 32-byte hash; the hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            finalize(into: UnsafeMutableRawBufferPointer(out))
            count = 32
        }
    }

    /// The hash of everything absorbed so far; the running state is left unchanged.
    public func digest() -> [UInt8] {
        var copy = self
        return copy.finalize()
    }

    /// Writes the first `out.count` (at most 32) bytes of the hash of everything absorbed so far,
    /// leaving the running state unchanged; allocates nothing (the RLPx MACs take four per frame).
    public func digest(into out: UnsafeMutableRawBufferPointer) {
        var copy = self
        copy.finalize(into: out)
    }

    /// Pads, permutes and writes the first `out.count` (at most 32) bytes of the hash.
    mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count <= 32, "a Keccak-256 hash has 32 bytes")
        for i in queued..<Self.rate { queue[i] = 0 }
        queue[queued] ^= 0x01
        queue[Self.rate - 1] ^= 0x80
        absorbQueue()
        for i in 0..<out.count {
            out[i] = UInt8(truncatingIfNeeded: state[i >> 3] >> (UInt64(i & 7) * 8))
        }
    }

    /// XORs each 136-byte block of `input` (a whole number of blocks) into the state and
    /// applies Keccak-f[1600] after each one (in C: see Sources/CPrimitives/Keccak.c).
    mutating func absorbBlocks(_ input: UnsafeRawBufferPointer) {
        let blocks = input.count / Self.rate
        guard blocks > 0, let bytes = input.baseAddress else { return }
        withUnsafeMutableBytes(of: &state) { lanes in
            cprim_keccak_f1600_absorb136(lanes.baseAddress!.assumingMemoryBound(to: UInt64.self), bytes, blocks)
        }
    }
}
