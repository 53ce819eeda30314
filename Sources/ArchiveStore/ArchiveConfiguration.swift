import Logging

/// How an archive is opened.
public struct ArchiveConfiguration: Sendable {
    /// Writer (takes the lock, recovers, appends) or reader (runs beside a writer).
    public enum Mode: Sendable { case writer, reader }

    /// Writer or reader.
    public var mode: Mode = .writer
    /// Create the directory when it does not exist (writer only).
    public var createIfMissing = true
    /// The fsync policy of appends.
    public var sync: SyncPolicy = .always
    /// A segment is sealed once it reaches this many bytes.
    public var segmentMaxBytes: Int64 = 256 << 20
    /// A segment is sealed once it is this old (seconds), so retention can drop whole files.
    public var segmentMaxAge: Int = 3600
    /// Records are grouped into blocks of at most about this many raw bytes.
    public var blockMaxBytes = 1 << 20
    /// The writer commits its index rows at least this often (milliseconds), and at once when a reader of the same
    /// `Archive` object needs them. Acknowledgements never wait for it: the segments are the record, and recovery
    /// indexes what the index had not committed. Readers in other processes see new envelopes at most this late.
    /// Each commit writes every index page its rows changed to the log, the last page of each topic included, so
    /// commits far apart write fewer bytes: 1M envelopes over 100 topics wrote a 78 MB log with a commit per
    /// 150k rows and 175 MB with one per 15k (100 ms of a fast ingest).
    public var indexCommitMilliseconds = 1000
    /// The index's write-ahead log is copied into its database file in the background at least this often
    /// (seconds), and after every 100 commits; at close it is always emptied. Far-apart checkpoints write fewer
    /// bytes (a page changed in many commits is copied once); the log may meanwhile grow past 64 MiB.
    public var indexCheckpointSeconds: Double = 10
    /// Try LZ4 on each block (kept only where it saves at least 1/16).
    public var compression = true
    /// Where recovery and maintenance are logged.
    public var logger = Logger(label: "whisper-archive.store")

    /// The defaults: a writer with `--sync always`.
    public init() {}

    /// A reader configuration.
    public static var reader: ArchiveConfiguration {
        var c = ArchiveConfiguration()
        c.mode = .reader
        c.createIfMissing = false
        return c
    }
}
