/// What opening the archive repaired.
public struct RecoveryReport: Sendable {
    /// A byte range cut from a segment's torn tail.
    public struct Cut: Sendable, Hashable, CustomStringConvertible {
        /// The segment (first sequence number).
        public var segment: UInt64
        /// The segment file name.
        public var fileName: String
        /// The bytes removed.
        public var range: Range<Int64>
        /// Why they were not a valid block.
        public var reason: String

        public var description: String { "\(fileName) bytes \(range.lowerBound)..<\(range.upperBound): \(reason)" }
    }

    /// Torn tails that were cut.
    public var cuts: [Cut] = []
    /// Torn tails a reader found and left as they are (it writes nothing): their bytes are not read.
    public var skipped: [Cut] = []
    /// Blocks indexed to catch up with the segments.
    public var blocksIndexed = 0
    /// Index rows added while catching up.
    public var entriesIndexed = 0
    /// Index rows removed because they pointed past a cut.
    public var entriesRemoved = 0
    /// Files an interrupted compaction left behind, removed (names inside `segments/`).
    public var leftoversRemoved: [String] = []
    /// True when the index was rebuilt because it did not match the manifest (a compaction was interrupted).
    public var indexRebuilt = false

    /// True when nothing had to be done.
    public var isClean: Bool { cuts.isEmpty && blocksIndexed == 0 && entriesRemoved == 0 && leftoversRemoved.isEmpty && !indexRebuilt }
}

/// The differences found when rebuilding the index from the segments.
public struct ReindexReport: Sendable, Codable {
    /// Rows in the rebuilt index (for the topics concerned).
    public var entries = 0
    /// Rows the old index lacked.
    public var missing = 0
    /// Rows the old index had but the segments do not.
    public var extra = 0
    /// Rows whose location differed.
    public var moved = 0
    /// Up to 10 keys (hex) of each kind, for the report.
    public var examples: [String] = []
    /// True when the old index matched the segments exactly.
    public var isClean: Bool { missing == 0 && extra == 0 && moved == 0 }
}
