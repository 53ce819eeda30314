import ArchiveStore
import ArgumentParser
import Foundation

/// `whisper-archive reindex`: rebuild the SQLite index from the segments.
struct ReindexCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Rebuild the archive's index (all of it, or some topics) from its segments.",
        discussion: """
            The index is derived data; the segments are the truth. reindex reads every block, rebuilds \
            the index rows (of the given topics, or all), and reports how the index it replaced \
            differed: rows missing, rows without a record, rows pointing elsewhere. An index that is missing, \
            empty, truncated or not a SQLite file is rebuilt too (a damaged one is first moved aside as \
            index.sqlite.bad-TIME). With --check it only compares, as a reader that writes nothing (it runs \
            beside a server and on a read-only archive), and exits 1 when they differ.

            Example:
              whisper-archive reindex --archive ./mail
              whisper-archive reindex --archive ./mail --topic 0xf8946aac --check
            """
    )

    @OptionGroup var options: ArchiveOptions<ArchiveInPlace>

    @Option(help: ArgumentHelp("Only the rows of this topic (8 hex digits); repeatable.", valueName: "hex"))
    var topic: [TopicArgument] = []

    @Flag(help: "Compare only; do not replace the index (exit 1 on differences).")
    var check = false

    func run() async throws {
        // --check only reads (beside a running server, on a read-only archive); a rebuild needs the writer, and first
        // moves an index that is not one aside, keeping its bytes.
        var config = options.configuration(mode: check ? .reader : .writer)
        config.createIfMissing = false
        let archive: Archive
        do {
            if !check, let aside = try Archive.moveDamagedIndexAside(directory: options.archive) {
                LogLine.cli.warning("the index could not be read; moved it to \(aside)")
            }
            archive = try Archive(directory: options.archive, configuration: config)
        } catch { throw CLIError(error.description) }
        defer { archive.close() }
        for cut in archive.recovery.cuts { LogLine.cli.notice("recovered: cut \(cut)") }
        let started = Date()
        let report: ReindexReport
        let progress = ProgressLine()
        do {
            report = try archive.reindex(topics: topic.isEmpty ? nil : topic.map(\.topic), dryRun: check) { done, total in
                progress.update(check ? "checking MB" : "reindexing MB", count: Int(done / 1_000_000), done: done, of: total)
            }
            progress.finish()
        } catch {
            progress.finish()
            throw CLIError(error.description)
        }
        if options.json {
            print(jsonLine(report))
        } else {
            print(
                String(
                    format: "%@ %d entries in %.2f s: %d missing, %d extra, %d moved",
                    check ? "checked" : "reindexed",
                    report.entries,
                    Date().timeIntervalSince(started),
                    report.missing,
                    report.extra,
                    report.moved
                )
            )
            for e in report.examples.prefix(10) { print("  differs: \(e)") }
        }
        if check && !report.isClean { throw ExitCode(1) }
    }
}
