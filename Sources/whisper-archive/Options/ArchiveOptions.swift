import ArchiveStore
import ArgumentParser

/// Flags shared by the commands that open an archive.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The archive directory.", valueName: "dir"))
    var archive: String

    @Flag(name: .long, help: "Print the summary as JSON on standard output.")
    var json = false

    /// A store configuration for this archive.
    func configuration(mode: ArchiveConfiguration.Mode, sync: SyncPolicy = .always) -> ArchiveConfiguration {
        var c = mode == .reader ? ArchiveConfiguration.reader : ArchiveConfiguration()
        c.sync = sync
        return c
    }
}
