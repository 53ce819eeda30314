import Whisper

/// A stored envelope as read back: its exact RLP bytes, key fields and arrival time, without re-hashing.
public struct ArchivedEnvelope: Sendable, Hashable {
    /// The exact RLP bytes, as received.
    public var rlp: [UInt8]
    /// Sent time (expiry − ttl), Unix seconds.
    public var sentTime: UInt32
    /// The topic.
    public var topic: Topic
    /// When the archive stored it (Unix seconds).
    public var arrival: UInt32?
    /// Sequence number of the record, when read from the segments.
    public var sequence: UInt64?
    /// The Keccak-256 hash, when already known (queries know it from the index).
    var knownHash: [UInt8]?

    /// Creates a value from its parts.
    public init(rlp: [UInt8], sentTime: UInt32, topic: Topic, arrival: UInt32? = nil, sequence: UInt64? = nil, hash: [UInt8]? = nil) {
        self.rlp = rlp
        self.sentTime = sentTime
        self.topic = topic
        self.arrival = arrival
        self.sequence = sequence
        self.knownHash = hash
    }

    /// From a decoded envelope.
    public init(_ envelope: Envelope, arrival: UInt32? = nil) {
        self.init(rlp: envelope.rlp, sentTime: envelope.sentTime, topic: envelope.topic, arrival: arrival, hash: envelope.hash)
    }

    /// The envelope hash (computed from the RLP when not known yet).
    public var hash: [UInt8] { knownHash ?? EnvelopeFields.hash(rlp) }

    /// The 40-byte status-go key.
    public var key: EnvelopeKey { EnvelopeKey(sentTime: sentTime, hash: hash, topic: topic) }

    /// Decodes the envelope strictly.
    public func envelope() throws(WhisperError) -> Envelope { try Envelope(rlp: rlp) }
}
