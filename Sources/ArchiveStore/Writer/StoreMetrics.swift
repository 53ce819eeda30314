import Metrics

/// What the segmented log reports through swift-metrics, to whatever backend the process bootstrapped (`serve`'s
/// Prometheus registry, or none): the writer's fsyncs and their latency, and the size and time span of the archive
/// it writes. Every value is set as it changes, so a scrape costs nothing here.
public struct StoreMetrics: Sendable {
    /// fsyncs (`fdatasync`) of segment files: group commits and `--sync interval:MS` syncs.
    public let fsyncs = Counter(label: StoreMetrics.fsyncsName)
    /// How long each took, in seconds (a histogram: a recorder that aggregates, as the mail server's own).
    public let fsyncSeconds = Recorder(label: StoreMetrics.fsyncSecondsName, aggregate: true)
    /// Segment files in the archive, the active one included.
    public let segments = Gauge(label: StoreMetrics.segmentsName)
    /// Bytes of every segment file (of the envelopes table and its indexes, for PostgreSQL).
    public let bytes = Gauge(label: StoreMetrics.bytesName)
    /// The sent time (UNIX seconds) of the oldest and newest envelope stored; 0 while the archive is empty.
    public let oldestSent = Gauge(label: StoreMetrics.oldestSentName)
    public let newestSent = Gauge(label: StoreMetrics.newestSentName)

    /// The handles, from the process's metrics backend.
    public init() {}

    public static let fsyncsName = "whisper_archive_fsyncs_total"
    public static let fsyncSecondsName = "whisper_archive_fsync_seconds"
    public static let segmentsName = "whisper_archive_segments"
    public static let bytesName = "whisper_archive_segment_bytes"
    public static let oldestSentName = "whisper_archive_oldest_sent_seconds"
    public static let newestSentName = "whisper_archive_newest_sent_seconds"

    /// One fsync, timed.
    func timedSync(_ body: () throws(ArchiveError) -> Void) throws(ArchiveError) {
        let start = ContinuousClock.now
        try body()
        let d = (ContinuousClock.now - start).components
        fsyncSeconds.record(Double(d.seconds) + Double(d.attoseconds) / 1e18)
        fsyncs.increment()
    }

    /// The archive's segments: `sealed` summed once per manifest, then the active one.
    func report(sealed: SegmentSummary, active: SegmentInfo) {
        let all = sealed.adding(active)
        segments.record(all.count)
        bytes.record(all.bytes)
        oldestSent.record(Int64(all.minSent ?? 0))
        newestSent.record(Int64(all.maxSent ?? 0))
    }
}

/// Count, bytes and sent-time span of a set of segments.
struct SegmentSummary: Sendable {
    var count = 0
    var bytes: Int64 = 0
    var minSent: UInt32?
    var maxSent: UInt32?

    init() {}

    init(_ segments: [SegmentInfo]) {
        self = segments.reduce(SegmentSummary()) { $0.adding($1) }
    }

    func adding(_ s: SegmentInfo) -> SegmentSummary {
        var r = self
        r.count += 1
        r.bytes += s.bytes
        if let m = s.minSentTime { r.minSent = min(r.minSent ?? m, m) }
        if let m = s.maxSentTime { r.maxSent = max(r.maxSent ?? m, m) }
        return r
    }
}
