import Whisper

/// What a compaction (or retention pass) removed and kept.
public struct CompactionReport: Sendable, Codable, Hashable {
    /// True when nothing was changed: the figures are exactly those a real run would report (timings aside).
    public var dryRun = false
    /// Envelopes sent before this time (Unix seconds) were removed; nil when no time cutoff was given.
    public var cutoff: UInt32?
    /// Topics whose envelopes were all removed (8 hex digits each).
    public var droppedTopics: [String] = []
    /// Records in the segments before.
    public var envelopesBefore = 0
    /// Records removed: `expired + topicDropped + duplicates`.
    public var envelopesRemoved = 0
    /// Records left.
    public var envelopesKept = 0
    /// Records removed because they were sent before the cutoff.
    public var expired = 0
    /// Records removed because their topic was dropped.
    public var topicDropped = 0
    /// Records removed because the same envelope is stored elsewhere.
    public var duplicates = 0
    /// Segment bytes before (all segment files, the active one included, before it is sealed).
    public var bytesBefore: Int64 = 0
    /// Segment bytes freed: those of the deleted segments, less those of the segments written in their place.
    public var bytesRemoved: Int64 = 0
    /// Segment bytes left: `bytesBefore - bytesRemoved` (the empty segment that sealing the active one starts is not counted).
    public var bytesKept: Int64 = 0
    /// Segment files before (the active one included, before it is sealed).
    public var segmentsBefore = 0
    /// Segment files after (the active one included).
    public var segmentsAfter = 0
    /// Sealed segments deleted as whole files (entirely before the cutoff), without a rewrite.
    public var segmentsDropped = 0
    /// Sealed segments read and rewritten (filtered, or merged with their neighbours).
    public var segmentsRewritten = 0
    /// New segment files written (a merge of several segments writes one).
    public var segmentsWritten = 0
    /// Bytes of the segments that were rewritten (read once to decide, once to copy).
    public var bytesRewritten: Int64 = 0
    /// Wall-clock seconds.
    public var seconds = 0.0

    /// Creates an empty report.
    public init() {}
}

/// What `Archive.compact(_:)` does.
public struct CompactionOptions: Sendable {
    /// Remove envelopes sent before this time (Unix seconds).
    public var before: UInt32?
    /// Remove every envelope of these topics.
    public var dropTopics: [Topic] = []
    /// Only report what a real run would do; write nothing (works on an archive open as a reader).
    public var dryRun = false
    /// Merge neighbouring sealed segments smaller than this many bytes (nil: a quarter of the segment size limit).
    public var mergeBelow: Int64?
    /// A merged segment spans at most this many seconds of sent time, so that later retention can still drop
    /// whole files (default one day).
    public var mergeSpan: UInt32 = 86_400
    /// Also rewrite segments holding records the index does not list (second copies of an envelope that
    /// slipped in); finding them costs one pass over the whole index.
    public var removeDuplicates = true
    /// Told the work done so far, of all of it (bytes of the segments rewritten, read once to decide and once to
    /// copy), as the run goes; called on the compacting thread.
    public var progress: (@Sendable (_ done: Int64, _ total: Int64) -> Void)?

    /// Creates options.
    public init(
        before: UInt32? = nil,
        dropTopics: [Topic] = [],
        dryRun: Bool = false,
        mergeBelow: Int64? = nil,
        mergeSpan: UInt32 = 86_400,
        removeDuplicates: Bool = true
    ) {
        self.removeDuplicates = removeDuplicates
        self.before = before
        self.dropTopics = dropTopics
        self.dryRun = dryRun
        self.mergeBelow = mergeBelow
        self.mergeSpan = mergeSpan
    }
}
