/// Where compaction puts the bytes of a segment it lays out: a file, or, for a dry run, nowhere.
///
/// The layout code is the same either way: it encodes every block (the LZ4 decision included) and takes the
/// output's size from the bytes it hands over, so a dry run's figures are those of the real run.
struct SegmentSink {
    /// The file written, or nil when the bytes are only counted by the caller.
    var file: SegmentFile?

    /// A sink that writes to `file`, or discards the bytes when nil.
    init(file: SegmentFile? = nil) { self.file = file }

    mutating func write(_ bytes: [UInt8], at offset: Int64) throws(ArchiveError) {
        try file?.write(bytes, at: offset)
    }

    func sync() throws(ArchiveError) { try file?.sync() }

    func truncate(to length: Int64) throws(ArchiveError) { try file?.truncate(to: length) }
}
