/// The writer's segments between two groups, for maintenance that runs under the writer's exclusion.
struct WriterSnapshot {
    /// The sealed segments, as the manifest lists them.
    let sealed: [SegmentInfo]
    /// The active segment, as far as it is written.
    let active: SegmentInfo
    /// The active segment's file (the writer's handle: read it, do not write it).
    let activeFile: SegmentFile

    /// Every segment: the sealed ones, then the active one.
    var all: [SegmentInfo] { sealed + [active] }
}
