import ArchiveStore

/// Writes concatenated envelope RLPs (LZ4 frame when the path ends in `.lz4`).
public struct RLPStreamSink: EnvelopeSink {
    private let output: ByteOutput

    /// Creates (truncates) `path`.
    public init(path: String) throws(FormatError) { output = try ByteOutput(path: path) }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) { try output.write(envelope.rlp) }
    public mutating func finish() throws(FormatError) { try output.finish() }
}
