import Whisper

/// One item read from a source: an envelope, or a record that could not be read (skipped and reported).
public enum SourceItem: Sendable {
    /// A valid envelope, with its arrival time when the format keeps one.
    case envelope(Envelope, arrival: UInt32?)
    /// An invalid record; reading continues after it.
    case invalid(FormatError)
}

/// A reader of envelopes from an external format.
public protocol EnvelopeSource {
    /// The next item, or nil at the end.
    ///
    /// - Throws: ``FormatError`` when the input cannot be read any further (missing file, I/O error).
    mutating func next() throws(FormatError) -> SourceItem?
    /// Bytes consumed so far (of the file as stored, for progress).
    var bytesRead: Int64 { get }
}
