/// What a command does with its `--archive`, as its help line says.
protocol ArchiveUse {
    /// The help line of `--archive`.
    static var help: String { get }
    /// True when the command also works on a PostgreSQL database (`--archive postgres://…`).
    static var acceptsPostgres: Bool { get }
    /// True when the command may take its archive from a config file instead of `--archive` (serve's `DataDir`
    /// and `PostgresURI`).
    static var mayComeFromConfig: Bool { get }
}

extension ArchiveUse {
    static var mayComeFromConfig: Bool { false }
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
    static var help: String {
        "The archive directory (created if missing), or a PostgreSQL database as a postgres:// URL (or the config's DataDir or PostgresURI)."
    }
    static var acceptsPostgres: Bool { true }
    static var mayComeFromConfig: Bool { true }
}

/// The archive `replay` reads its envelopes from.
enum ReplayedArchive: ArchiveUse {
    static var help: String { "The archive to read." }
    static var acceptsPostgres: Bool { false }
}
