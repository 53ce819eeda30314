import ArchiveStore
import Foundation

/// The archive a bench keeps in its `--directory` between runs.
enum BenchArchive {
    /// The archive at `path` opened as a reader when it holds exactly `count` envelopes; nil when there is none
    /// (the bench builds one). Another archive there is refused: a bench never writes into an archive it did not
    /// build for exactly this run's size.
    static func reusable(_ path: String, count: Int) throws -> Archive? {
        guard FileManager.default.fileExists(atPath: path + "/MANIFEST") else { return nil }
        let archive: Archive
        do { archive = try Archive(directory: path, configuration: .reader) } catch { throw CLIError(error.description) }
        let found = try archive.count()
        guard found == count else {
            archive.close()
            throw CLIError(
                "\(path) holds an archive of \(found) envelopes, not \(count); give another --directory (a bench only reads an archive it finds)"
            )
        }
        return archive
    }

    /// The archive at `path` for a bench of `data.count` envelopes: the one found there (see `reusable(_:count:)`),
    /// or a new one that `data` is appended to with sync off. `announce` hears which (true: reused) before a build.
    static func openOrBuild(_ path: String, from data: BenchEnvelopes, announce: (_ reused: Bool) -> Void) async throws -> Archive {
        if let found = try reusable(path, count: data.count) {
            announce(true)
            return found
        }
        var config = ArchiveConfiguration()
        config.sync = .none
        let archive = try Archive(directory: path, configuration: config)
        announce(false)
        var data = data
        try await data.append(to: archive)
        return archive
    }
}
