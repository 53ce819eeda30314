import ArchiveStore
import Whisper

/// What an audit looks at and which thresholds make an envelope an anomaly.
public struct AuditConfiguration: Sendable {
    /// The envelopes examined (sent-time range and topics).
    public var filter: EnvelopeFilter = .all
    /// Keys tried on every envelope.
    public var keys: [AuditKey] = []
    /// Envelopes whose proof of work is below this are anomalies (none when nil).
    public var minimumPoW: Double?
    /// Envelopes whose size (`20 + len(Data)`) exceeds this are anomalies; default 1 MiB, the default `MaxMessageSize`.
    public var maximumSize = 1 << 20
    /// Keep the opened payloads in the report.
    public var keepPayloads = false
    /// Seconds a sent time may lie after the arrival time before the envelope counts as future-dated.
    public var futureTolerance: UInt32 = 0

    /// The defaults: everything, no keys, no PoW threshold, 1 MiB size limit.
    public init() {}
}
