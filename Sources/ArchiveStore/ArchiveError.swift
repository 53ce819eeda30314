/// A failure of the archive store, with the context an operator needs to act on it.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// Another process holds the writer lock.
        case locked = "archive locked"
        /// A file could not be opened, read, written or synced.
        case io = "I/O error"
        /// A segment, block or manifest does not have the documented layout or fails its checksum.
        case corrupt = "corrupt archive"
        /// The archive was written by an unknown format version.
        case unsupportedVersion = "unsupported format version"
        /// The SQLite index failed.
        case index = "index error"
        /// A caller passed an invalid value.
        case invalidArgument = "invalid argument"
        /// An envelope could not be stored (for example, larger than a block allows).
        case invalidEnvelope = "invalid envelope"
        /// The archive was closed.
        case closed = "archive closed"
        /// The archive is open read-only.
        case readOnly = "archive is read-only"
        /// A database engine's server refused a statement, or could not be reached.
        case database = "database error"
    }

    /// The kind of failure.
    public var code: Code
    /// What failed and what to do about it.
    public var message: String
    /// The file concerned, if any.
    public var path: String?
    /// The segment concerned (its first sequence number), if any.
    public var segment: UInt64?
    /// The byte offset inside `path` or the segment, if known.
    public var offset: Int64?
    /// The OS error number, if any.
    public var errno: Int32?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        path: String? = nil,
        segment: UInt64? = nil,
        offset: Int64? = nil,
        errno: Int32? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.segment = segment
        self.offset = offset
        self.errno = errno
    }

    public var description: String {
        var s = message
        if let path, !message.contains(path) || offset != nil {
            s += " [\(path)" + (offset.map { " at byte \($0)" } ?? "") + "]"
        } else if let offset {
            s += " [at byte \(offset)]"
        }
        return s
    }
}
