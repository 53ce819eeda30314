import ArchiveStore
import Whisper

/// Writes one JSON object per line, with the keys of `inspect --json` and, when the archive knows it, `arrival`
/// (Unix seconds, an integer like `sent`).
public struct JSONLSink: EnvelopeSink {
    private let output: ByteOutput

    /// Writes `path` (see ``OutputFile``): an existing regular file is replaced, on success, only when `replacing`.
    public init(path: String, replacing: Bool = false) throws(FormatError) { output = try ByteOutput(path: path, replacing: replacing) }

    public mutating func write(_ envelope: ArchivedEnvelope) throws(FormatError) {
        let e: Envelope
        do { e = try envelope.envelope() } catch { throw FormatError(.invalidRecord, path: output.path, "stored envelope does not decode: \(error)") }
        let extra: [(String, EnvelopeJSON.Value)]
        if let arrival = envelope.arrival, arrival != 0 { extra = [("arrival", .number(String(arrival)))] } else { extra = [] }
        try output.write(Array(EnvelopeJSON.encode(e, extra: extra).utf8))
        try output.write(CollectionOfOne(UInt8(0x0A)))
    }

    public mutating func finish() throws(FormatError) { try output.finish() }
}
