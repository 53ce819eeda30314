/// A problem with an input or output file, located precisely (file and byte offset or line).
public struct FormatError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable {
        /// The file does not exist.
        case missingFile = "no such file or directory"
        /// The file exists but this user may not read (or write) it.
        case permissionDenied = "permission denied"
        /// An output file exists and replacing it was not asked for.
        case exists = "file exists"
        /// Reading or writing failed.
        case io = "I/O error"
        /// A record is not a valid envelope.
        case invalidRecord = "invalid record"
        /// The input is not in the expected format at all.
        case unrecognised = "unrecognised format"
        /// The option combination is not supported.
        case unsupported = "unsupported"
    }

    /// The kind of problem.
    public var code: Code
    /// The file (or directory).
    public var path: String
    /// Byte offset of the record inside the (uncompressed) stream, when known.
    public var offset: Int64?
    /// 1-based line number (jsonl), when known.
    public var line: Int?
    /// A LevelDB or SQLite key (hex), when that locates the record.
    public var key: String?
    /// What is wrong.
    public var detail: String
    /// A phrase that says it all about the whole file ("not a SQLite database"): the message is then
    /// `headline: path`, with the detail (if any) after it.
    public var headline: String?

    /// Creates an error about a whole file, written `headline: path` (`permission denied: /evidence/mail.db`).
    public init(_ code: Code, path: String, headline: String, _ detail: String = "") {
        self.init(code, path: path, detail)
        self.headline = headline
    }

    /// Creates an error.
    public init(_ code: Code, path: String, offset: Int64? = nil, line: Int? = nil, key: String? = nil, _ detail: String) {
        self.code = code
        self.path = path
        self.offset = offset
        self.line = line
        self.key = key
        self.detail = detail
    }

    /// Where: `file:line`, `file@offset` or `file key K`.
    public var location: String {
        if let line { return "\(path):\(line)" }
        if let offset { return "\(path) at byte \(offset)" }
        if let key { return "\(path) key \(key)" }
        return path
    }

    public var description: String {
        guard let headline else { return "\(location): \(code.rawValue): \(detail)" }
        return detail.isEmpty ? "\(headline): \(location)" : "\(headline): \(location): \(detail)"
    }
}
