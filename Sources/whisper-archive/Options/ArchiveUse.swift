/// What a command does with its `--archive` directory, as its help line says.
protocol ArchiveUse {
    /// The help line of `--archive`.
    static var help: String { get }
}

/// An archive worked on in place (import, export, compact, reindex, audit, verify).
enum ArchiveInPlace: ArchiveUse {
    static var help: String { "The archive directory." }
}

/// The archive `serve` serves, created when it is missing.
enum ServedArchive: ArchiveUse {
    static var help: String { "The archive directory (created if missing)." }
}

/// The archive `replay` reads its envelopes from.
enum ReplayedArchive: ArchiveUse {
    static var help: String { "The archive to read." }
}
