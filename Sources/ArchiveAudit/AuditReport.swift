/// What an audit found: counts, distributions, anomalies, and what the keys opened. Encodes as one JSON document.
public struct AuditReport: Sendable, Codable {
    /// Envelopes per topic.
    public struct TopicCount: Sendable, Codable, Equatable {
        /// The topic (8 hex digits).
        public var topic: String
        /// Envelopes.
        public var count: Int
        /// Bytes of envelope RLP.
        public var bytes: Int
        /// Earliest and latest sent time (Unix seconds).
        public var firstSent: UInt32
        /// Latest sent time (Unix seconds).
        public var lastSent: UInt32
    }

    /// Envelopes sent in one hour.
    public struct HourCount: Sendable, Codable, Equatable {
        /// Start of the hour (Unix seconds, a multiple of 3600).
        public var hour: UInt32
        /// Envelopes in the hour.
        public var count: Int
        /// Envelopes per topic (8 hex digits) in the hour.
        public var topics: [String: Int]
    }

    /// The kinds of anomaly.
    public enum AnomalyKind: String, Sendable, Codable, CaseIterable {
        /// The sent time lies after the arrival time (judged only where the arrival is known).
        case futureDated = "future-dated"
        /// The envelope had expired when it arrived (judged only where the arrival is known).
        case expiredOnArrival = "expired-on-arrival"
        /// Proof of work below `--min-pow`.
        case lowPoW = "low-pow"
        /// Larger than the size limit.
        case oversize
        /// The same Data (ciphertext) as an earlier envelope with another hash.
        case duplicatePayload = "duplicate-payload"
        /// The same opened payload as an earlier envelope with another hash (re-encrypted replay).
        case duplicateMessage = "duplicate-message"
        /// The record does not decode as a strict envelope.
        case malformed
    }

    /// One anomalous envelope.
    public struct Anomaly: Sendable, Codable, Equatable {
        /// What is wrong.
        public var kind: AnomalyKind
        /// The envelope hash (hex).
        public var hash: String
        /// The topic (8 hex digits).
        public var topic: String
        /// Sent time (Unix seconds).
        public var sent: UInt32
        /// Arrival time (Unix seconds), when recorded.
        public var arrival: UInt32?
        /// The record's sequence number in the archive.
        public var sequence: UInt64?
        /// The measured value against the threshold, in words.
        public var detail: String
        /// For duplicates: the hash of the first envelope with the same payload.
        public var firstHash: String?
    }

    /// A signer and how many opened envelopes it signed.
    /// Bytes of a segment file the scan could not read.
    public struct Skipped: Sendable, Codable, Equatable {
        public var file: String
        public var start: Int64
        public var end: Int64
        public var reason: String
    }

    public struct SignerCount: Sendable, Codable, Equatable {
        /// The recovered public key (128 hex digits, X‖Y).
        public var publicKey: String
        /// Envelopes signed.
        public var count: Int
        /// Labels of the keys that opened them.
        public var keys: [String]
    }

    /// What one key opened.
    public struct KeyResult: Sendable, Codable, Equatable {
        /// The key's label.
        public var label: String
        /// How it was given.
        public var kind: AuditKey.Kind
        /// Envelopes opened.
        public var opened: Int
        /// Opened envelopes that were not signed.
        public var unsigned: Int
        /// Payload bytes, in total.
        public var payloadBytes: Int
        /// Smallest and largest payload.
        public var payloadSizeMin: Int?
        /// Largest payload.
        public var payloadSizeMax: Int?
        /// Signers of the opened envelopes.
        public var signers: [SignerCount]
        /// Hashes of the opened envelopes, in archive order.
        public var envelopes: [String]
    }

    /// One opened payload (`--show-payloads`).
    public struct Payload: Sendable, Codable, Equatable {
        /// The envelope hash.
        public var hash: String
        /// The key that opened it.
        public var key: String
        /// The topic.
        public var topic: String
        /// Sent time.
        public var sent: UInt32
        /// The signer's public key, when signed.
        public var signer: String?
        /// The payload in hex.
        public var payload: String
        /// The payload as text, when it is printable UTF-8.
        public var text: String?
    }

    /// The sent-time range and topics examined.
    public struct Scope: Sendable, Codable, Equatable {
        /// Earliest sent time selected.
        public var from: UInt32
        /// Latest sent time selected.
        public var to: UInt32
        /// The topics selected; nil for all.
        public var topics: [String]?
        /// The PoW threshold, if any.
        public var minimumPoW: Double?
        /// The size limit.
        public var maximumSize: Int
    }

    /// What was examined.
    public var scope: Scope
    /// Envelopes examined.
    public var envelopes = 0
    /// Bytes of envelope RLP examined.
    public var bytes = 0
    /// Earliest sent time seen.
    public var firstSent: UInt32?
    /// Latest sent time seen.
    public var lastSent: UInt32?
    /// Per topic, most envelopes first.
    public var topics: [TopicCount] = []
    /// Per hour of sent time, ascending.
    public var hours: [HourCount] = []
    /// Envelope sizes (`20 + len(Data)`).
    public var sizes = Histogram.sizes()
    /// TTLs.
    public var ttls = Histogram.ttls()
    /// Proofs of work.
    public var pows = Histogram.pows()
    /// Envelopes whose arrival time is unknown (stored as 0: imported from a source that keeps none), which the
    /// arrival checks (future-dated, expired-on-arrival) could not judge.
    public var arrivalUnknown = 0
    /// Anomalies per kind.
    public var anomalyCounts: [String: Int] = [:]
    /// Every anomaly, in archive order.
    public var anomalies: [Anomaly] = []
    /// Damaged data the scan skipped (a file and byte range each, with why): the report does not cover
    /// the envelopes stored there.
    public var skipped: [Skipped] = []
    /// Per key.
    public var keys: [KeyResult] = []
    /// Signers over all keys, most envelopes first.
    public var signers: [SignerCount] = []
    /// Opened payloads, when asked for.
    public var payloads: [Payload]?
    /// Wall-clock seconds the audit took.
    public var seconds = 0.0
}
