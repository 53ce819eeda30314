import EthCrypto

/// A 4-byte Whisper topic.
public struct Topic: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 4 bytes read as a big-endian integer (so ordering matches byte order).
    public var rawValue: UInt32

    /// A topic from its big-endian integer form.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `BytesToTopic`: the first min(4, count) bytes, zero-filled on the right.
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        var v: UInt32 = 0
        var i = 0
        for b in bytes.prefix(4) {
            v |= UInt32(b) << (24 - 8 * UInt32(i))
            i += 1
        }
        rawValue = v
    }

    /// Parses exactly 8 hex digits (an optional 0x prefix is allowed).
    public init(hex: String) throws(WhisperError) {
        let b: [UInt8]
        do { b = try Hex.decode(hex) } catch { throw WhisperError(.invalidArgument, "topic \(hex): \(error)") }
        guard b.count == 4 else { throw WhisperError(.invalidArgument, "a topic is 4 bytes (8 hex digits), got \(b.count)") }
        self.init(bytes: b)
    }

    /// Status's topic derivation: the first 4 bytes of Keccak-256(name).
    public init(name: String) { self.init(bytes: Keccak256.hash(Array(name.utf8)).prefix(4)) }

    /// The 4 bytes.
    public var bytes: [UInt8] {
        [
            UInt8(rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
            UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue),
        ]
    }

    /// The topic's 64-byte bloom, with the implementations' assignment quirk.
    public var bloom: Bloom { Bloom(topic: self) }

    public var description: String { "0x" + bytes.hex }

    public static func < (a: Topic, b: Topic) -> Bool { a.rawValue < b.rawValue }
}
