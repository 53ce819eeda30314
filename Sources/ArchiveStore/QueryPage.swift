import Whisper

/// One page of a query: envelopes in ascending (sent time, hash) order and the cursor to continue.
public struct QueryPage: Sendable {
    /// The envelopes, oldest first.
    public var envelopes: [ArchivedEnvelope]
    /// Where the next page starts (the last envelope's key prefix); nil when no more envelopes match.
    public var cursor: Cursor?
    /// Blocks whose records the index names but that failed their checks: those records were skipped.
    public var damaged: [DamagedBlock] = []

    /// A page.
    public init(envelopes: [ArchivedEnvelope], cursor: Cursor?, damaged: [DamagedBlock] = []) {
        self.envelopes = envelopes
        self.cursor = cursor
        self.damaged = damaged
    }
}

/// What an append did.
public struct AppendResult: Sendable, Hashable {
    /// Envelopes that were not stored before.
    public var added: Int
    /// Envelopes already present (same hash), including repeats inside the batch.
    public var duplicates: Int
    /// Bytes of RLP newly stored.
    public var bytes: Int

    /// Creates a result.
    public init(added: Int = 0, duplicates: Int = 0, bytes: Int = 0) {
        self.added = added
        self.duplicates = duplicates
        self.bytes = bytes
    }
}
