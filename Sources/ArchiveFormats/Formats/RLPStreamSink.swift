import ArchiveStore

/// Writes concatenated envelope RLPs (LZ4 frame when the path ends in `.lz4`).
public struct RLPStreamSink: EnvelopeSink {
    private let output: ByteOutput

    /// Writes `path` (see ``OutputFile``): an existing regular file is replaced, on success, only when `replacing`.
    public init(path: String, replacing: Bool = false) throws(FormatError) { output = try ByteOutput(path: path, replacing: replacing) }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) { try output.write(envelope.rlp) }
    public mutating func finish() throws(FormatError) { try output.finish() }
}
