/// What a command does with its `--archive`, as its help line says.
protocol ArchiveUse {
    /// The help line of `--archive`.
    static var help: String { get }
    /// True when the command also works on a PostgreSQL database (`--archive postgres://…`).
    static var acceptsPostgres: Bool { get }
}

/// An archive directory worked on in place (reindex, verify, inspect).
enum ArchiveInPlace: ArchiveUse {
    static var help: String { "The archive directory." }
    static var acceptsPostgres: Bool { false }
}

/// An archive directory or a PostgreSQL database worked on in place (import, export, compact, audit).
enum StoreInPlace: ArchiveUse {
    static var help: String { "The archive directory, or a PostgreSQL database as a postgres:// URL." }
    static var acceptsPostgres: Bool { true }
}

/// The archive `serve` serves, created when it is missing.
enum ServedArchive: ArchiveUse {
    static var help: String { "The archive directory (created if missing), or a PostgreSQL database as a postgres:// URL." }
    static var acceptsPostgres: Bool { true }
}

/// The archive `replay` reads its envelopes from.
enum ReplayedArchive: ArchiveUse {
    static var help: String { "The archive to read." }
    static var acceptsPostgres: Bool { false }
}
