import ArchiveStore
import ArgumentParser
import EthCrypto
import Foundation
import Whisper

/// `whisper-archive bench compact`: retention by whole-segment drops, and the rewrite rate of compaction.
struct BenchCompactCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Time retention (dropping a day) and compaction throughput (dropping a topic, merging).",
        discussion: """
            Builds an archive of --count 1 KiB envelopes sent over --days days, in segments of about \
            one hour of traffic each (as a server's hourly roll makes them), then measures in order: \
            dropping the first day with the retention that `serve --retention-days` runs (whole-segment \
            drops, no rewrite), dropping one of the --topics \
            topics from the rest (every segment rewritten; MB/s of segment bytes rewritten), and merging \
            the hourly segments into daily ones (MB/s). Each step includes its manifest swap and index transaction.

            Example:
              swift build -c release && .build/release/whisper-archive bench compact --count 1000000
            """
    )

    @Option(help: "Envelopes to store (1 KiB each).")
    var count = 1_000_000

    @Option(help: "Days of sent time the envelopes span.")
    var days = 10

    @Option(help: "Distinct topics.")
    var topics = 10

    @OptionGroup var directoryOption: BenchDirectoryOptions<FreshBenchDirectory>

    @OptionGroup var output: BenchOutputOptions

    func validate() throws {
        if count < 1000 { throw ValidationError("--count must be at least 1000") }
        if days < 2 { throw ValidationError("--days must be at least 2") }
        if topics < 2 { throw ValidationError("--topics must be at least 2") }
    }

    struct Figure: Encodable {
        var name: String
        var seconds: Double
        var megabytesPerSecond: Double?
        var report: CompactionReport
    }

    func run() async throws {
        let work = try directoryOption.workDirectory(prefix: "wa-bench-compact")
        defer { work.removeIfTemporary() }
        let note = output.note

        // Segments of about one hour of traffic each.
        let hours = days * 24
        var config = ArchiveConfiguration()
        config.sync = .none
        config.segmentMaxBytes = max(64 << 10, Int64(count / hours) * 1060)
        config.blockMaxBytes = Int(min(1 << 20, config.segmentMaxBytes / 4))
        config.compression = false
        var archive = try Archive(directory: work.file("archive"), configuration: config)
        defer { archive.close() }

        note("building \(count) envelopes over \(days) days…")
        let topicList = BenchEnvelopes.topics(topics)
        let t0: UInt32 = 1_700_000_000
        var data = BenchEnvelopes(count: count, topics: topicList, start: t0, span: UInt64(days) * 86_400)
        let buildStart = Date()
        try await data.append(to: archive)
        let segments = try archive.segments().count
        note(String(format: "built in %.1f s: %d segments", Date().timeIntervalSince(buildStart), segments))

        var figures: [Figure] = []
        func measure(_ name: String, rate: Bool, _ options: CompactionOptions) throws {
            let start = Date()
            let report =
                options.removeDuplicates
                ? try archive.compact(options)
                : try archive.applyRetention(before: options.before ?? 0, dropTopics: options.dropTopics)
            let seconds = Date().timeIntervalSince(start)
            let mbps = rate && report.bytesRewritten > 0 ? Double(report.bytesRewritten) / 1e6 / seconds : nil
            figures.append(Figure(name: name, seconds: seconds, megabytesPerSecond: mbps, report: report))
            note(
                String(
                    format: "%@: %.3f s; removed %d envelopes, %.1f MB; %d segments dropped whole, %d rewritten into %d",
                    name,
                    seconds,
                    report.envelopesRemoved,
                    Double(report.bytesRemoved) / 1e6,
                    report.segmentsDropped,
                    report.segmentsRewritten,
                    report.segmentsWritten
                )
                    + (mbps.map { String(format: "; %.0f MB/s of segments rewritten", $0) } ?? "")
            )
        }
        try measure("drop the first day (retention)", rate: false, CompactionOptions(before: t0 + 86_400, removeDuplicates: false))
        try measure("drop one topic (rewrite)", rate: true, CompactionOptions(dropTopics: [topicList[0]], mergeBelow: 0))
        // Merging: reopened with the default 256 MiB segment limit, hourly segments merge into one file per day.
        archive.close()
        archive = try Archive(directory: work.file("archive"), configuration: ArchiveConfiguration())
        try measure("merge small segments", rate: true, CompactionOptions())
        if output.json {
            print(jsonLine(figures))
        } else {
            for f in figures {
                print(
                    f.name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " %9.3f s", f.seconds)
                        + (f.megabytesPerSecond.map { String(format: "  %7.0f MB/s", $0) } ?? "")
                        + "  (\(f.report.envelopesRemoved) envelopes removed, \(f.report.segmentsDropped) segments dropped, \(f.report.segmentsRewritten) rewritten)"
                )
            }
        }
    }
}
