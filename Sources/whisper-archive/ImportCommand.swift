import ArchiveFormats
import ArchiveStore
import ArgumentParser
import Foundation
import PostgresArchive

/// `whisper-archive import`: load envelopes from files in any supported format into an archive.
struct ImportCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import envelopes from rlp, jsonl, sqlite, LevelDB or archive inputs into an archive.",
        discussion: """
            The format of each PATH is detected from its name and content unless --format is given; \
            rlp and jsonl inputs ending in .lz4 are decompressed (LZ4 frame format). Envelopes already \
            in the archive are counted as duplicates. Invalid records are skipped and reported with \
            their file and byte offset (or line, or LevelDB key); --strict stops at the first one, \
            keeping what was imported before it. The exit status is 0 only when every record was imported \
            or was a duplicate, and 1 when any record was rejected or any input could not be read. \
            Inputs are never written: a LevelDB is read from a private copy and a SQLite file is opened \
            immutable, so read-only evidence (files 0444, a read-only mount) imports unchanged. Arrival \
            times are kept from archive and jsonl inputs that carry them; other envelopes are stored with \
            arrival 0, "unknown".

            Example:
              whisper-archive import --archive /var/lib/whisper-archive Samples/envelopes.rlp
              whisper-archive import --archive ./mail --format leveldb ~/status-go/mailserver-data
            """
    )

    @OptionGroup var options: ArchiveOptions<StoreInPlace>

    @Option(help: "The input format (detected when omitted).")
    var format: ArchiveFormat?

    @Flag(help: "Stop at the first invalid record or unreadable input (exit 1).")
    var strict = false

    @Option(help: "fsync policy: always, none or interval:MS.")
    var sync: SyncPolicy = .always

    @Option(help: ArgumentHelp("Envelopes per append.", visibility: .hidden))
    var batchSize = 2048

    @Flag(help: ArgumentHelp("Print `ack N` after each acknowledged batch (N input records so far).", visibility: .hidden))
    var printAcks = false

    @Argument(help: ArgumentHelp("Input files or directories.", valueName: "path"), completion: .file())
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one input PATH") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        let store: any EnvelopeStore
        switch try options.location.target {
        case .directory(let directory):
            let archive: Archive
            do { archive = try Archive(directory: directory, configuration: options.configuration(mode: .writer, sync: sync)) } catch {
                throw CLIError(error.description)
            }
            for cut in archive.recovery.cuts { LogLine.cli.notice("recovered: cut \(cut)") }
            store = archive
        case .postgres(let database):
            store = try await options.location.openPostgres(database, readOnly: false)
        }
        let progress = ProgressLine()
        let inputBytes = Self.inputBytes(paths: paths, format: format)
        var importer = Importer(store: store)
        let location = options.location
        // A database input is opened read only: the session refuses writes, and nothing is created in it.
        importer.openStore = { url in
            let database: PostgresLocation
            do { database = try PostgresLocation(url: url) } catch { throw CLIError("\(error)") }
            return try await location.openPostgres(database, readOnly: true)
        }
        importer.strict = strict
        importer.batchSize = batchSize
        importer.onInvalid = { error in
            progress.finish()
            LogLine.cli.error("\(error.description)")
        }
        let printAcks = self.printAcks
        importer.onBatch = { summary, acknowledged in
            if printAcks {
                var line = "ack \(acknowledged)\n"
                line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
            }
            progress.update("imported", count: summary.imported + summary.duplicates, done: summary.bytes, of: inputBytes)
        }
        let summary: Importer.Summary
        do {
            summary = try await importer.run(paths: paths, format: format)
        } catch {
            await store.close()
            throw CLIError("import failed: \(error)")
        }
        await store.close()
        progress.finish()
        if options.json {
            print(jsonLine(summary))
        } else {
            print(
                String(
                    format: "imported %d, duplicates %d, rejected %d, %d bytes read, %.0f envelopes/s (%.2f s)",
                    summary.imported,
                    summary.duplicates,
                    summary.rejected,
                    summary.bytes,
                    summary.rate,
                    summary.seconds
                )
            )
        }
        if summary.stopped || summary.unreadableFiles > 0 || summary.rejected > 0 { throw ExitCode(1) }
    }
}

extension ImportCommand {
    /// The bytes the import will read, when they are known: plain rlp or jsonl files (a directory, a database or a
    /// compressed file reads a different amount than its size).
    static func inputBytes(paths: [String], format: ArchiveFormat?) -> Int64? {
        var total: Int64 = 0
        for path in paths {
            guard !path.hasSuffix(".lz4"), !PostgresLocation.isURL(path),
                let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let size = attributes[.size] as? NSNumber
            else { return nil }
            let kind = format ?? ArchiveFormat.guess(fromName: path)
            guard kind == .rlp || kind == .jsonl else { return nil }
            total += size.int64Value
        }
        return total
    }
}
