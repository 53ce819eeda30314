import ArchiveStore
import ArgumentParser

/// Flags shared by the commands that open an archive and print a summary: `--archive` and `--json`.
struct ArchiveOptions<Use: ArchiveUse>: ParsableArguments {
    @OptionGroup var location: ArchiveLocation<Use>

    @Flag(name: .long, help: "Print the summary as JSON on standard output.")
    var json = false

    /// The archive directory (for a command that takes only directories).
    var archive: String { location.directory }

    /// A store configuration for this archive.
    func configuration(mode: ArchiveConfiguration.Mode, sync: SyncPolicy = .always) -> ArchiveConfiguration {
        var c = mode == .reader ? ArchiveConfiguration.reader : ArchiveConfiguration()
        c.sync = sync
        return c
    }

    /// The store named: the archive directory opened in `mode`, or the database (read only for a reader); a
    /// failure is the command's one line.
    func openStore(mode: ArchiveConfiguration.Mode) async throws -> any EnvelopeStore {
        switch try location.target {
        case .directory(let directory):
            do { return try Archive(directory: directory, configuration: configuration(mode: mode)) } catch {
                throw CLIError(error.description)
            }
        case .postgres(let database):
            return try await location.openPostgres(database, readOnly: mode == .reader)
        }
    }
}
