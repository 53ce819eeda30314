/// One problem `verify` found, with where it is.
public struct VerifyFinding: Sendable, Codable, Hashable, CustomStringConvertible {
    /// What kind of damage, which decides the exit-code bit.
    public enum Category: String, Sendable, Codable, CaseIterable {
        /// Segment bytes are damaged: a bad header or block, a torn tail, an undecodable record, a wrong key, a duplicate.
        case data
        /// The index disagrees with the segments.
        case index
        /// A file the archive needs is missing.
        case missing
        /// The manifest disagrees with the segment files (stale or damaged).
        case manifest

        /// The exit-code bit of this category (see `whisper-archive verify --help`).
        public var exitBit: Int32 {
            switch self {
            case .data: return 4
            case .index: return 8
            case .missing: return 16
            case .manifest: return 32
            }
        }
    }

    /// The category.
    public var category: Category
    /// A short machine-readable name, for example `bad-block` or `index-extra`.
    public var kind: String
    /// The file, relative to the archive directory (for example `segments/00000000000000000001.seg`).
    public var file: String
    /// The segment (its first sequence number), when the finding concerns one.
    public var segment: UInt64?
    /// First byte of the damaged range in `file`.
    public var start: Int64?
    /// One past the last byte of the damaged range.
    public var end: Int64?
    /// Hashes (hex) of the envelopes concerned, when known.
    public var hashes: [String]
    /// What is wrong.
    public var detail: String

    /// Creates a finding.
    public init(
        _ category: Category,
        _ kind: String,
        file: String,
        segment: UInt64? = nil,
        range: Range<Int64>? = nil,
        hashes: [String] = [],
        detail: String
    ) {
        self.category = category
        self.kind = kind
        self.file = file
        self.segment = segment
        self.start = range?.lowerBound
        self.end = range?.upperBound
        self.hashes = hashes
        self.detail = detail
    }

    public var description: String {
        var s = "\(category.rawValue): \(kind): \(file)"
        if let start, let end { s += " bytes \(start)..<\(end)" } else if let start { s += " at byte \(start)" }
        s += ": \(detail)"
        if !hashes.isEmpty {
            s += " (envelope" + (hashes.count > 1 ? "s " : " ") + hashes.prefix(5).joined(separator: ", ")
            s += hashes.count > 5 ? ", … \(hashes.count) in all)" : ")"
        }
        return s
    }
}

/// What `verify` checked and found.
public struct VerifyReport: Sendable, Codable {
    /// Every finding, in the order found.
    public var findings: [VerifyFinding] = []
    /// Segments checked.
    public var segments = 0
    /// Valid blocks read.
    public var blocks = 0
    /// Records read from valid blocks.
    public var records = 0
    /// Segment bytes read.
    public var bytes: Int64 = 0
    /// Index entries compared.
    public var indexEntries = 0
    /// True when every envelope was also decoded and hashed (`--full`).
    public var full = false
    /// Wall-clock seconds.
    public var seconds = 0.0
    /// Notes that are not damage (for example blocks after the index high-water mark that the next writer open indexes).
    public var notes: [String] = []

    /// True when nothing was found.
    public var isClean: Bool { findings.isEmpty }

    /// The exit code: 0 when clean, else 1 plus the bit of every category found.
    public var exitCode: Int32 {
        findings.isEmpty ? 0 : findings.reduce(Int32(1)) { $0 | $1.category.exitBit }
    }
}

/// Progress of a long verify: bytes of segments read so far, of the total.
public struct VerifyProgress: Sendable, Codable {
    /// Bytes read.
    public var bytes: Int64
    /// Total segment bytes.
    public var totalBytes: Int64
    /// Records read.
    public var records: Int
    /// Findings so far.
    public var findings: Int
    /// Seconds since the start.
    public var seconds: Double
}
