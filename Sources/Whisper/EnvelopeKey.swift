import EthCrypto

/// status-go's 40-byte mailserver database key: sent time (u32 BE) ‖ envelope hash (32) ‖ topic (4).
///
/// Keys sort bytewise, which orders envelopes by sent second, then hash, then topic.
public struct EnvelopeKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Key length in bytes.
    public static let length = 40

    /// The 40 bytes.
    public let bytes: [UInt8]

    /// Builds a key from its parts.
    public init(sentTime: UInt32, hash: [UInt8], topic: Topic) {
        precondition(hash.count == 32, "an envelope hash is 32 bytes")
        var b = [UInt8]()
        b.reserveCapacity(40)
        b.append(UInt8(sentTime >> 24))
        b.append(UInt8(truncatingIfNeeded: sentTime >> 16))
        b.append(UInt8(truncatingIfNeeded: sentTime >> 8))
        b.append(UInt8(truncatingIfNeeded: sentTime))
        b += hash
        b += topic.bytes
        bytes = b
    }

    /// A key from exactly 40 bytes.
    public init<C: Collection>(bytes: C) throws(WhisperError) where C.Element == UInt8 {
        guard bytes.count == 40 else {
            throw WhisperError(.invalidArgument, "a database key is 40 bytes, got \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    /// The sent time (bytes 0..3).
    public var sentTime: UInt32 {
        UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    }
    /// The envelope hash (bytes 4..35).
    public var hash: [UInt8] { Array(bytes[4..<36]) }
    /// The topic (bytes 36..39).
    public var topic: Topic { Topic(bytes: bytes[36..<40]) }
    /// The 36-byte cursor: the key without its topic.
    public var cursor: Cursor { Cursor(validated: Array(bytes[0..<36])) }
    /// go-ethereum's (and pre-2019 status-go's) 36-byte key: time ‖ hash.
    public var legacyKey: [UInt8] { Array(bytes[0..<36]) }

    /// The smallest key with this sent time: `DBKey(t, zero hash, zero topic)`.
    public static func lowerBound(sentTime: UInt32) -> EnvelopeKey {
        EnvelopeKey(sentTime: sentTime, hash: [UInt8](repeating: 0, count: 32), topic: Topic(rawValue: 0))
    }

    /// The largest key with this sent time: `DBKey(t, 0xFF… hash, 0xFFFFFFFF topic)`.
    public static func upperBound(sentTime: UInt32) -> EnvelopeKey {
        EnvelopeKey(sentTime: sentTime, hash: [UInt8](repeating: 0xFF, count: 32), topic: Topic(rawValue: .max))
    }

    public var description: String { bytes.hex }

    public static func < (a: EnvelopeKey, b: EnvelopeKey) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// A 36-byte mailserver cursor: sent time (u32 BE) ‖ envelope hash — the first 36 bytes of an ``EnvelopeKey``.
///
/// Paging resumes strictly after the cursor: the envelope at the cursor is not sent again.
public struct Cursor: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Cursor length in bytes.
    public static let length = 36

    /// The 36 bytes.
    public let bytes: [UInt8]

    init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// A cursor from bytes the caller knows to be 36 long (an archive index row's key is one), kept as they are:
    /// the array is shared, not copied or checked beyond its length.
    ///
    /// - Precondition: `bytes.count == 36`.
    public init(trusted bytes: [UInt8]) {
        precondition(bytes.count == Cursor.length, "a cursor is 36 bytes")
        self.bytes = bytes
    }

    /// A cursor from exactly 36 bytes.
    public init<C: Collection>(bytes: C) throws(WhisperError) where C.Element == UInt8 {
        guard bytes.count == 36 else {
            throw WhisperError(.invalidArgument, "a cursor is 36 bytes, got \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    /// The sent time (bytes 0..3).
    public var sentTime: UInt32 {
        UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    }
    /// The envelope hash (bytes 4..35).
    public var hash: [UInt8] { Array(bytes[4..<36]) }

    /// The largest key with this sent time: `DBKey(t, 0xFF… hash, 0xFFFFFFFF topic)`.
    public static func upperBound(sentTime: UInt32) -> EnvelopeKey {
        EnvelopeKey(sentTime: sentTime, hash: [UInt8](repeating: 0xFF, count: 32), topic: Topic(rawValue: .max))
    }

    public var description: String { bytes.hex }

    public static func < (a: Cursor, b: Cursor) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
