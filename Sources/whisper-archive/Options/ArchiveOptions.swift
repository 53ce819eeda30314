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
}
