import ArgumentParser
import Foundation

/// `--directory DIR`: where a bench works, with the help line `Use` gives (whether an archive found there is reused).
struct BenchDirectoryOptions<Use: BenchDirectoryUse>: ParsableArguments {
    @Option(help: ArgumentHelp(Use.help))
    var directory: String?

    /// The work directory: `--directory` (created if missing, kept afterwards), or a fresh temporary directory
    /// named `prefix`-UUID, which `BenchWorkDirectory.removeIfTemporary()` removes.
    func workDirectory(prefix: String) throws -> BenchWorkDirectory {
        try BenchWorkDirectory(given: directory, prefix: prefix)
    }
}
