import ArchiveStore
import Whisper

/// Writes one JSON object per line, with the keys of `inspect --json`.
public struct JSONLSink: EnvelopeSink {
    private let output: ByteOutput

    /// Creates (truncates) `path`.
    public init(path: String) throws(FormatError) { output = try ByteOutput(path: path) }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        let e: Envelope
        do { e = try envelope.envelope() } catch { throw FormatError(.invalidRecord, path: output.path, "stored envelope does not decode: \(error)") }
        try output.write(Array(EnvelopeJSON.encode(e).utf8))
        try output.write(CollectionOfOne(UInt8(0x0A)))
    }

    public mutating func finish() throws(FormatError) { try output.finish() }
}
