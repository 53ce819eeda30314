import ArchiveStore
import ArgumentParser
import PostgresArchive

/// `--archive DIR|URL` (or `--archive-url URL`): the archive a command works on, with the help line `Use` gives.
///
/// One declaration for every command that takes an archive; `Use` says, in the help, what the command does with
/// it, and whether a PostgreSQL database (a `postgres://` URL) may stand in for a directory.
struct ArchiveLocation<Use: ArchiveUse>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(Use.help, valueName: Use.acceptsPostgres ? "dir|url" : "dir"), completion: .directory)
    var archive: String?

    @Option(
        name: .customLong("archive-url"),
        help: ArgumentHelp(
            "A PostgreSQL archive in status-go's schema (postgres://USER@HOST:PORT/DB), instead of --archive.",
            valueName: "url",
            visibility: Use.acceptsPostgres ? .default : .private
        )
    )
    var archiveURL: String?

    @Option(
        name: .customLong("pg-connections"),
        help: ArgumentHelp("PostgreSQL: connections in the pool.", valueName: "n", visibility: Use.acceptsPostgres ? .default : .private)
    )
    var pgConnections = 8

    @Option(
        name: .customLong("pg-timeout"),
        help: ArgumentHelp(
            "PostgreSQL: seconds a statement (or the wait for a connection) may take before it fails.",
            valueName: "seconds",
            visibility: Use.acceptsPostgres ? .default : .private
        )
    )
    var pgTimeout = 10.0

    /// Where the envelopes are.
    enum Target {
        /// An archive directory.
        case directory(String)
        /// A PostgreSQL database.
        case postgres(PostgresLocation)
    }

    func validate() throws {
        switch (archive, archiveURL) {
        case (nil, nil):
            // The command checks the config's archive itself.
            if !Use.mayComeFromConfig { throw ValidationError("give --archive\(Use.acceptsPostgres ? " or --archive-url" : "")") }
        case (.some, .some): throw ValidationError("give --archive or --archive-url, not both")
        default: break
        }
        if let archiveURL, !PostgresLocation.isURL(archiveURL) {
            throw ValidationError("--archive-url takes a postgres:// URL")
        }
        if pgConnections < 1 { throw ValidationError("--pg-connections must be at least 1") }
        if !(pgTimeout > 0) || !pgTimeout.isFinite { throw ValidationError("--pg-timeout must be a positive number of seconds") }
        if case .postgres = try target, !Use.acceptsPostgres {
            throw ValidationError("this command works on an archive directory; it does not apply to a PostgreSQL database")
        }
    }

    /// The archive named, parsed: a `postgres://` or `postgresql://` value is a database.
    var target: Target {
        get throws { try target(orConfig: nil) }
    }

    /// The archive named by the flags, else `configured` (a config file's directory or URL).
    func target(orConfig configured: String?) throws -> Target {
        let value = archive ?? archiveURL ?? configured ?? ""
        guard PostgresLocation.isURL(value) else { return .directory(value) }
        do { return .postgres(try PostgresLocation(url: value)) } catch { throw ValidationError(error.message) }
    }

    /// The archive directory (``validate()`` has refused a database for a command that takes only directories).
    var directory: String {
        if case .directory(let d)? = try? target { return d }
        return archive ?? ""
    }
}

extension ArchiveLocation {
    /// Connects to the PostgreSQL archive `location`, with the pool size and timeout of the flags; a failure is one
    /// line naming the database (unreachable, refused login, not status-go's schema).
    func openPostgres(_ location: PostgresLocation, readOnly: Bool) async throws -> PostgresStore {
        var c = PostgresStore.Configuration()
        c.connections = pgConnections
        c.timeout = .milliseconds(Int64(pgTimeout * 1000))
        c.readOnly = readOnly
        do { return try await PostgresStore.open(location, configuration: c) } catch { throw CLIError(error.description) }
    }
}
