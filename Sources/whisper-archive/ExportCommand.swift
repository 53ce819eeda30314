import ArchiveFormats
import ArchiveStore
import ArgumentParser
import Foundation
import PostgresArchive
import Whisper

/// `whisper-archive export`: write an archive's envelopes (or a time/topic slice) to a file in a chosen format.
struct ExportCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export envelopes from an archive to rlp, jsonl, sqlite, LevelDB or another archive.",
        discussion: """
            Reads the archive as a reader, so it can run beside a running server. Damaged blocks are \
            skipped with a warning naming the segment and byte range; the export is still written, and the \
            exit status is then 1. --from and --to \
            select on sent time (inclusive) and take Unix seconds or ISO-8601; --topic can be repeated. \
            rlp and jsonl outputs ending in .lz4 are LZ4-compressed (readable by the lz4 tool). jsonl \
            lines carry "arrival" (Unix seconds) when the archive knows it.

            A file output is written to a temporary file beside it and renamed into place only when the \
            export succeeds; an existing file is replaced only with --force. A device or FIFO \
            (/dev/null, a named pipe, /dev/stdout) is written in place, and --output - writes rlp or jsonl \
            to standard output (the summary then goes to standard error). A leveldb output directory must \
            be new, empty or a LevelDB database.

            Example:
              whisper-archive export --archive ./mail --format jsonl --output day.jsonl.lz4 \\
                --from 2024-05-01 --to 2024-05-02 --topic 0xf8946aac
            """
    )

    @OptionGroup var options: ArchiveOptions<StoreInPlace>

    @Option(help: "The output format.")
    var format: ArchiveFormat

    @Option(help: ArgumentHelp("The output file or directory; - for standard output (rlp, jsonl).", valueName: "path"), completion: .file())
    var output: String

    @Flag(help: "Replace an existing output file.")
    var force = false

    @Option(help: "Earliest sent time (inclusive).")
    var from: TimeArgument?

    @Option(help: "Latest sent time (inclusive).")
    var to: TimeArgument?

    @Option(help: ArgumentHelp("Only this topic (8 hex digits); repeatable.", valueName: "hex"))
    var topic: [TopicArgument] = []

    func validate() throws {
        if let from, let to, from.seconds > to.seconds { throw ValidationError("--from is after --to") }
        if format.isStore && !PostgresLocation.isURL(output) { throw ValidationError("--format postgres takes a postgres:// URL as --output") }
        if output.hasSuffix(".lz4") && !format.isStream { throw ValidationError("only rlp and jsonl outputs can be LZ4-compressed") }
        if output == "-" && !format.isStream { throw ValidationError("only rlp and jsonl can be written to standard output (--output -)") }
    }

    func run() async throws {
        let filter = EnvelopeFilter(
            from: from?.seconds ?? 0,
            to: to?.seconds ?? .max,
            topics: topic.isEmpty ? .all : .list(topic.map(\.topic))
        )
        let source = try await options.openStore(mode: .reader)
        // The total is known, at O(1), when every envelope goes out; a filtered export shows its count and rate.
        let unfiltered = from == nil && to == nil && topic.isEmpty
        let total = unfiltered && isatty(2) == 1 ? try? await source.count() : nil
        if format.isStore {
            try await exportToDatabase(from: source, filter: filter, total: total)
            return
        }
        let progress = ProgressLine()
        let summary: Exporter.Summary
        do {
            summary = try await Exporter.run(store: source, filter: filter, format: format, path: output, replacing: force) { s in
                progress.update("exported", count: s.exported, total: total)
            }
            await source.close()
        } catch let error as FormatError where error.code == .exists {
            await source.close()
            progress.finish()
            throw CLIError("\(output) exists; pass --force to replace it")
        } catch {
            await source.close()
            progress.finish()
            throw CLIError("export failed: \(error)")
        }
        progress.finish()
        let line =
            options.json
            ? jsonLine(summary)
            : String(
                format: "exported %d envelopes, %d bytes of RLP, %.1f MB/s (%.2f s)",
                summary.exported,
                summary.bytes,
                summary.megabytesPerSecond,
                summary.seconds
            )
        // Standard output may be the export itself.
        if output == "-" || Self.isStandardOutput(output) { writeStandardError(line + "\n") } else { print(line) }
        if !summary.damaged.isEmpty {
            let bytes = summary.damaged.reduce(Int64(0)) { $0 + Int64($1.range.count) }
            throw CLIError("skipped \(summary.damaged.count) damaged block(s), \(bytes) bytes: their envelopes are not in \(output); run verify")
        }
    }

    /// `--format postgres --output URL`: adds the envelopes the database lacks (a second run after an interrupted
    /// one adds the rest), with the import's progress line and summary.
    func exportToDatabase(from source: any EnvelopeStore, filter: EnvelopeFilter, total: Int?) async throws {
        let database: PostgresLocation
        do { database = try PostgresLocation(url: output) } catch {
            await source.close()
            throw CLIError(error.description)
        }
        let target: PostgresStore
        do { target = try await options.location.openPostgres(database, readOnly: false) } catch {
            await source.close()
            throw error
        }
        let progress = ProgressLine()
        var copier = Importer(store: target)
        copier.onBatch = { summary, _ in progress.update("exported", count: summary.imported + summary.duplicates, total: total) }
        copier.onInvalid = { error in
            progress.finish()
            LogLine.cli.error("\(error.description)")
        }
        let summary: Importer.Summary
        do {
            summary = try await copier.copy(from: source, filter: filter)
        } catch {
            await target.close()
            await source.close()
            progress.finish()
            throw CLIError("export failed: \(error)")
        }
        await target.close()
        await source.close()
        progress.finish()
        print(
            options.json
                ? jsonLine(summary)
                : String(
                    format: "exported %d envelopes to %@: %d new, %d already there, %d invalid (%.2f s)",
                    summary.imported + summary.duplicates,
                    target.location,
                    summary.imported,
                    summary.duplicates,
                    summary.rejected,
                    summary.seconds
                )
        )
        if summary.rejected > 0 { throw ExitCode(1) }
    }

    /// True when `path` names the file standard output is (`/dev/stdout`).
    static func isStandardOutput(_ path: String) -> Bool {
        var a = stat()
        var b = stat()
        return stat(path, &a) == 0 && fstat(1, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
