import ArchiveStore
import ArgumentParser
import Foundation

/// `whisper-archive verify`: prove an archive intact, or say exactly where it is not.
struct VerifyCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an archive's manifest, segments, blocks and index; optionally repair it.",
        discussion: """
            Quick (default): the manifest, every segment header, every block's CRC32C and layout, and \
            index <-> segment consistency (every index entry points at a record with that key, every \
            record is indexed). --full also decodes every envelope strictly, recomputes its hash, and \
            checks its key (sent time, hash, topic) and that it is stored once. Damage does not stop the \
            check: it resumes at the next valid block. Each finding names the file, the byte range and \
            the envelope hashes when known. Read-only; it may run beside a server.

            --json prints JSON lines: {"event":"progress",…} at least once a second, one \
            {"event":"finding",…} per finding, {"event":"repair",…} per repair action, and a final \
            {"event":"summary",…}.

            --repair (needs the archive not to be served) moves damaged bytes to DIR/quarantine/, rewrites \
            the damaged segments from their valid blocks (cutting torn tails), rebuilds the manifest from \
            the segment files and the index from the segments, and lists every change. It never drops a \
            record of a valid block. It acts on what this run found: add --full to repair what only a full \
            check sees (a wrong hash in the index).

            Exit code: 0 clean; otherwise 1 plus the sum of the bits of what was found:
              4  data damaged (bad header or block, torn tail, undecodable record, wrong key, duplicate)
              8  index inconsistent with the segments
             16  files missing (segment, manifest, index)
             32  manifest inconsistent (stale or unreadable)
             64  --repair changed the archive (run verify again to confirm it is clean)
            Exit 1 alone means verify could not run; 2 is a usage error (never combined with bits).

            Example:
              whisper-archive verify --archive ./mail --full
              whisper-archive verify --archive ./mail --json | jq 'select(.event == "finding")'
              whisper-archive verify --archive ./mail --repair
            """
    )

    @OptionGroup var location: ArchiveLocation<ArchiveInPlace>

    @Flag(help: "Also decode and hash every envelope and check its key and uniqueness.")
    var full = false

    @Flag(help: "Print JSON lines: progress, findings, repairs, summary.")
    var json = false

    @Flag(help: "Quarantine damaged bytes, rewrite damaged segments, rebuild the manifest and the index.")
    var repair = false

    struct Event<T: Encodable>: Encodable {
        var event: String
        var data: T
        func encode(to encoder: any Encoder) throws {
            try data.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(event, forKey: .event)
        }
        enum Key: String, CodingKey { case event }
    }

    struct Summary: Encodable {
        var clean: Bool
        var exitCode: Int32
        var findings: Int
        var findingsByCategory: [String: Int]
        var segments: Int
        var blocks: Int
        var records: Int
        var bytes: Int64
        var indexEntries: Int
        var full: Bool
        var seconds: Double
        var megabytesPerSecond: Double
        var repairs: Int
        var notes: [String]
    }

    func run() async throws {
        let archive = location.directory
        let progressLine = ProgressLine()
        let json = self.json
        let report: VerifyReport
        do {
            report = try Archive.verify(
                directory: archive,
                full: full,
                progress: { p in
                    if json {
                        writeLine(jsonLine(Event(event: "progress", data: p)))
                    } else {
                        progressLine.update("verified MB", count: Int(p.bytes / 1_000_000), done: Int64(p.bytes), of: Int64(p.totalBytes))
                    }
                },
                finding: { f in
                    if json {
                        writeLine(jsonLine(Event(event: "finding", data: f)))
                    } else {
                        progressLine.finish()
                        print(f.description)
                    }
                }
            )
        } catch {
            throw CLIError(error.description)
        }
        progressLine.finish()
        var actions: [RepairAction] = []
        if repair && !report.isClean {
            LogLine.cli.notice("REPAIRING \(archive): \(report.findings.count) findings")
            do { actions = try Archive.repair(directory: archive) } catch {
                throw CLIError("repair failed: \(error)", exitCode: report.exitCode | 1)
            }
            for a in actions {
                if json { writeLine(jsonLine(Event(event: "repair", data: a))) } else { print("repaired: \(a)") }
            }
        }
        var code = report.exitCode
        if !actions.isEmpty { code |= 64 | 1 }
        var byCategory: [String: Int] = [:]
        for f in report.findings { byCategory[f.category.rawValue, default: 0] += 1 }
        let summary = Summary(
            clean: report.isClean,
            exitCode: code,
            findings: report.findings.count,
            findingsByCategory: byCategory,
            segments: report.segments,
            blocks: report.blocks,
            records: report.records,
            bytes: report.bytes,
            indexEntries: report.indexEntries,
            full: report.full,
            seconds: report.seconds,
            megabytesPerSecond: report.seconds > 0 ? Double(report.bytes) / report.seconds / 1e6 : 0,
            repairs: actions.count,
            notes: report.notes
        )
        if json {
            writeLine(jsonLine(Event(event: "summary", data: summary)))
        } else {
            for n in report.notes { print("note: \(n)") }
            print(
                String(
                    format: "%@: %d segments, %d blocks, %d records, %d index entries, %.1f MB in %.2f s (%.0f MB/s)%@; %d findings%@",
                    report.isClean ? "clean" : "NOT CLEAN",
                    report.segments,
                    report.blocks,
                    report.records,
                    report.indexEntries,
                    Double(report.bytes) / 1e6,
                    report.seconds,
                    summary.megabytesPerSecond,
                    full ? ", full" : "",
                    report.findings.count,
                    actions.isEmpty ? "" : ", \(actions.count) repairs"
                )
            )
        }
        if code != 0 { throw ExitCode(code) }
    }
}
