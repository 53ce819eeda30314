import ArchiveStore
import ArgumentParser

/// Flags shared by the commands that open an archive and print a summary: `--archive` and `--json`.
struct ArchiveOptions: ParsableArguments {
    @OptionGroup var location: ArchiveLocation<ArchiveInPlace>

    @Flag(name: .long, help: "Print the summary as JSON on standard output.")
    var json = false

    /// The archive directory.
    var archive: String { location.archive }

    /// A store configuration for this archive.
    func configuration(mode: ArchiveConfiguration.Mode, sync: SyncPolicy = .always) -> ArchiveConfiguration {
        var c = mode == .reader ? ArchiveConfiguration.reader : ArchiveConfiguration()
        c.sync = sync
        return c
    }
}
