import EthCrypto

/// A 64-byte (512-bit) Whisper bloom filter.
public struct Bloom: Hashable, Sendable, CustomStringConvertible {
    /// Bloom size in bytes.
    public static let byteCount = 64

    /// The 64 bytes; bit n is `bytes[n / 8] & (1 << (n % 8))`.
    public private(set) var bytes: [UInt8]

    /// An all-zero bloom ("interested in nothing").
    public static let empty = Bloom(validated: [UInt8](repeating: 0, count: 64))
    /// The full-node bloom: 64 × 0xFF (matches everything).
    public static let full = Bloom(validated: [UInt8](repeating: 0xFF, count: 64))

    init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// A bloom from exactly 64 bytes.
    public init<C: Collection>(bytes: C) throws(WhisperError) where C.Element == UInt8 {
        guard bytes.count == 64 else {
            throw WhisperError(.invalidArgument, "a bloom filter is 64 bytes, got \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    /// `TopicToBloom`: three bit indices, each **assigned** to its byte (a later index erases an
    /// earlier one in the same byte), exactly as go-ethereum and status-go do (whisper §2).
    public init(topic: Topic) {
        var b = [UInt8](repeating: 0, count: 64)
        let t = topic.bytes
        for j in 0..<3 {
            var index = Int(t[j])
            if t[3] & (1 << UInt8(j)) != 0 { index += 256 }
            b[index / 8] = 1 << UInt8(index % 8)
        }
        bytes = b
    }

    /// The OR of the blooms of `topics` (`addBloom`).
    public init<S: Sequence>(topics: S) where S.Element == Topic {
        var b = Bloom.empty
        for t in topics { b.formUnion(t.bloom) }
        self = b
    }

    /// ORs `other` into this bloom.
    public mutating func formUnion(_ other: Bloom) {
        for i in 0..<64 { bytes[i] |= other.bytes[i] }
    }

    /// `BloomFilterMatch(self, sample)`: every bit of `sample` is set in this filter.
    public func matches(_ sample: Bloom) -> Bool {
        for i in 0..<64 where bytes[i] | sample.bytes[i] != bytes[i] { return false }
        return true
    }

    /// True for the full-node bloom (all 0xFF).
    public var isFull: Bool { bytes.allSatisfy { $0 == 0xFF } }

    /// A bloom received on the wire: 0 bytes means a full node; otherwise exactly 64.
    public static func fromWire<C: Collection>(_ bytes: C) throws(WhisperError) -> Bloom where C.Element == UInt8 {
        if bytes.isEmpty { return .full }
        return try Bloom(bytes: bytes)
    }

    public var description: String { bytes.hex }
}
