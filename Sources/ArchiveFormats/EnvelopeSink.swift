import ArchiveStore

/// A writer of envelopes into an external format.
public protocol EnvelopeSink {
    /// Writes one envelope (its exact RLP bytes).
    mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError)
    /// Completes the output (flushes, ends a compressed frame, commits).
    mutating func finish() throws(FormatError)
}
