import ArchiveStore
import ArgumentParser
import Foundation
import PostgresArchive

/// `whisper-archive compact`: retention, topic removal, duplicate removal and segment merging.
struct CompactCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Drop old envelopes and unwanted topics, remove duplicates, and merge small segments.",
        discussion: """
            Seals the active segment, then: deletes every sealed segment whose newest envelope was sent \
            before the cutoff as a whole file (no rewrite); rewrites segments that hold expired envelopes, \
            envelopes of a --drop-topic, or duplicates; and merges runs of small neighbouring segments. \
            New files are swapped in through the manifest, so a crash at any moment leaves either the old \
            or the new archive (the next open removes leftovers). The writer lock is taken: stop the \
            server first, or give it --retention-days instead.

            The cutoff is --before TIME (RFC 3339 with Z or an offset, a date, or Unix seconds) or \
            --retention-days N (now - N days, N ≥ 1); \
            sent time is expiry - TTL. --json prints the report as one JSON object.

            --dry-run reports exactly what the same compaction would do now (envelopes and bytes removed \
            and kept, segments dropped, rewritten and written): it takes the same decisions and encodes \
            the same blocks, but counts them instead of writing them, and seals the active segment only \
            in its figures. It opens the archive as a reader and writes nothing, so it runs beside a \
            running server and on a read-only archive.

            Example:
              whisper-archive compact --archive ./mail --retention-days 30
              whisper-archive compact --archive ./mail --before 2024-05-01 --drop-topic 0xf8946aac --dry-run --json
            """
    )

    @OptionGroup var options: ArchiveOptions<StoreInPlace>

    @Option(name: .customLong("retention-days"), help: ArgumentHelp("Remove envelopes sent more than N days ago.", valueName: "N"))
    var retentionDays: Int?

    @Option(help: "Remove envelopes sent before this time.")
    var before: TimeArgument?

    @Option(name: .customLong("drop-topic"), help: ArgumentHelp("Remove every envelope of this topic (8 hex digits); repeatable.", valueName: "hex"))
    var dropTopic: [TopicArgument] = []

    @Flag(name: .customLong("dry-run"), help: "Report exactly what a compaction would do now; write nothing (opens the archive as a reader).")
    var dryRun = false

    @Option(
        name: .customLong("merge-below"),
        help: ArgumentHelp(
            "Merge neighbouring sealed segments smaller than this many bytes (default: a quarter of the segment size limit, 64 MiB; 0: never merge).",
            valueName: "bytes"
        )
    )
    var mergeBelow: Int64?

    func validate() throws {
        if retentionDays != nil && before != nil { throw ValidationError("give --retention-days or --before, not both") }
        // 0 would remove everything sent before now: refused, as serve refuses it (use --before to mean a time).
        if let retentionDays, retentionDays < 1 { throw ValidationError("--retention-days must be at least 1") }
        if let mergeBelow, mergeBelow < 0 { throw ValidationError("--merge-below must be at least 0") }
        if case .postgres = try options.location.target {
            if !dropTopic.isEmpty || dryRun || mergeBelow != nil {
                throw ValidationError("on a PostgreSQL database, compact applies retention only (--retention-days or --before)")
            }
            if cutoff == nil { throw ValidationError("on a PostgreSQL database, give --retention-days or --before") }
        }
    }

    /// The cutoff in Unix seconds, if any.
    var cutoff: UInt32? {
        if let before { return before.seconds }
        guard let retentionDays else { return nil }
        return UInt32(clamping: Int(Date().timeIntervalSince1970) - retentionDays * 86_400)
    }

    func run() async throws {
        if case .postgres(let database) = try options.location.target {
            try await expire(database, before: cutoff ?? 0)
            return
        }
        let archive: Archive
        do {
            // A dry run reads only: no lock, no recovery, nothing written.
            var config = options.configuration(mode: dryRun ? .reader : .writer)
            config.createIfMissing = false
            archive = try Archive(directory: options.archive, configuration: config)
        } catch { throw CLIError(error.description) }
        defer { archive.close() }
        for cut in archive.recovery.cuts { LogLine.cli.notice("recovered: cut \(cut)") }
        for name in archive.recovery.leftoversRemoved { LogLine.cli.notice("recovered: removed leftover \(name)") }
        let report: CompactionReport
        let progress = ProgressLine()
        var compaction = CompactionOptions(before: cutoff, dropTopics: dropTopic.map(\.topic), dryRun: dryRun, mergeBelow: mergeBelow)
        compaction.progress = { done, total in progress.update("compacting MB", count: Int(done / 1_000_000), done: done, of: total) }
        do {
            report = try archive.compact(compaction)
            progress.finish()
        } catch {
            progress.finish()
            throw CLIError("compaction failed: \(error.description)")
        }
        if options.json {
            print(jsonLine(report))
            return
        }
        let mb = { (b: Int64) in String(format: "%.1f MB", Double(b) / 1e6) }
        print(
            "\(dryRun ? "would remove" : "removed") \(report.envelopesRemoved) envelopes (\(report.expired) expired, "
                + "\(report.topicDropped) of dropped topics, \(report.duplicates) duplicates) and \(mb(report.bytesRemoved)); "
                + "kept \(report.envelopesKept) envelopes in \(mb(report.bytesKept))"
        )
        print(
            "segments: \(report.segmentsBefore) before, \(report.segmentsAfter) after; \(report.segmentsDropped) dropped whole, "
                + "\(report.segmentsRewritten) rewritten into \(report.segmentsWritten)"
                + String(format: "; %.2f s", report.seconds)
        )
    }

    /// Retention on a PostgreSQL database: batched deletes by the node holding the retention lock.
    func expire(_ database: PostgresLocation, before cutoff: UInt32) async throws {
        let store = try await options.location.openPostgres(database, readOnly: false)
        let report: RetentionReport
        do { report = try await store.expire(sentBefore: cutoff) } catch {
            await store.close()
            throw CLIError("retention failed: \(error.description)")
        }
        await store.close()
        if options.json {
            print(jsonLine(["removed": report.removed, "kept": report.kept]))
        } else {
            print("removed \(report.removed) envelopes sent before \(cutoff) \(report.detail); kept \(report.kept)")
        }
    }
}
