import ArchiveAudit
import ArchiveStore
import ArgumentParser
import EthCrypto
import Foundation
import SystemErrorText
import Whisper

/// `whisper-archive audit`: content forensics over an archive — counts, distributions, anomalies, what keys open.
struct AuditCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Report what an archive holds: counts, distributions, anomalies, and what given keys open.",
        discussion: """
            Reads every selected envelope (the archive is opened as a reader, so a server may run \
            beside it) and reports envelopes per topic and per hour; size, TTL and proof-of-work \
            distributions; and anomalies: future-dated (sent after arrival), expired on arrival (both \
            judged only where the arrival time is known; envelopes imported from rlp, LevelDB, SQLite or \
            jsonl without "arrival" have none, and the report counts them as not judged), \
            proof of work below --min-pow, oversize (larger than --max-size), the same Data under \
            different envelopes, the same opened payload under different envelopes, and records that \
            do not decode.

            Each --password, --sym-key and --private-key is tried on every envelope: the report says \
            which envelopes each key opens, their signers (recovered public keys) with counts, and \
            payload sizes; --show-payloads also prints the payloads. Keys are named in reports by \
            kind and position (password #1), never by value.

            --json prints the report as one JSON document; --html FILE writes one self-contained page \
            with inline SVG charts (envelopes per hour and topic, size, PoW and TTL histograms) and \
            tables of topics, anomalies and signers. Exit code 0 (anomalies are findings, not failures; \
            use --strict to exit 1 when there are any); 1 when damaged data had to be skipped (the \
            report, which lists it, covers everything else).

            Example:
              whisper-archive audit --archive ./mail --from 2024-05-01 --to 2024-05-02 \\
                --password status-offline-inbox --min-pow 0.002 --html audit.html
            """
    )

    @OptionGroup var location: ArchiveLocation<StoreInPlace>

    @Option(help: ArgumentHelp("Earliest sent time (inclusive): RFC 3339 with Z or an offset, a date, or Unix seconds.", valueName: "time"))
    var from: TimeArgument?

    @Option(help: ArgumentHelp("Latest sent time (inclusive): RFC 3339 with Z or an offset, a date, or Unix seconds.", valueName: "time"))
    var to: TimeArgument?

    @Option(help: ArgumentHelp("Only this topic (8 hex digits); repeatable.", valueName: "hex"))
    var topic: [TopicArgument] = []

    @OptionGroup var keys: TrialKeyOptions

    @Option(name: .customLong("min-pow"), help: "Report envelopes whose proof of work is below this.")
    var minPow: Double?

    @Option(name: .customLong("max-size"), help: "Report envelopes larger than this many bytes (20 + len(Data)).")
    var maxSize = 1 << 20

    @Flag(name: .customLong("show-payloads"), help: "Print the payloads of the envelopes the keys open.")
    var showPayloads = false

    @Flag(help: "Print the report as one JSON document.")
    var json = false

    @Option(help: ArgumentHelp("Write the report as a self-contained HTML page to this file.", valueName: "file"), completion: .file())
    var html: String?

    @Flag(help: "Exit 1 when there are anomalies.")
    var strict = false

    func validate() throws {
        if let from, let to, from.seconds > to.seconds { throw ValidationError("--from is after --to") }
        if json && html != nil { throw ValidationError("give either --json or --html, not both") }
        if let minPow, !(minPow >= 0) || !minPow.isFinite { throw ValidationError("--min-pow must be a non-negative number") }
        if maxSize < 1 { throw ValidationError("--max-size must be at least 1") }
    }

    func run() async throws {
        var config = AuditConfiguration()
        config.filter = EnvelopeFilter(
            from: from?.seconds ?? 0,
            to: to?.seconds ?? .max,
            topics: topic.isEmpty ? .all : .list(topic.map(\.topic))
        )
        config.keys = try keys.auditKeys()
        config.minimumPoW = minPow
        config.maximumSize = maxSize
        config.keepPayloads = showPayloads
        let store: any EnvelopeStore
        switch try location.target {
        case .directory(let directory):
            do { store = try Archive(directory: directory, configuration: .reader) } catch { throw CLIError(error.description) }
        case .postgres(let database):
            store = try await location.openPostgres(database, readOnly: true)
        }
        let progress = ProgressLine()
        let report: AuditReport
        do {
            report = try await Auditor.run(store: store, configuration: config) { progress.update("audited", count: $0) }
            await store.close()
        } catch {
            await store.close()
            progress.finish()
            throw CLIError("audit failed: \(error)")
        }
        progress.finish()
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try e.encode(report), as: UTF8.self))
        } else if let html {
            do { try Data(AuditHTML.render(report).utf8).write(to: URL(fileURLWithPath: html)) } catch {
                throw CLIError("cannot write the report: \(SystemErrorText.describe(error, subject: html))")
            }
            print("wrote \(html): \(report.envelopes) envelopes, \(report.topics.count) topics, \(report.anomalies.count) anomalies")
        } else {
            printHuman(report)
        }
        if !report.skipped.isEmpty {
            // Each range was named in a warning as the scan met it.
            let bytes = report.skipped.reduce(Int64(0)) { $0 + ($1.end - $1.start) }
            throw CLIError("skipped \(report.skipped.count) damaged range(s), \(bytes) bytes: the report does not cover their envelopes; run verify")
        }
        if strict && !report.anomalies.isEmpty { throw ExitCode(1) }
    }

    func printHuman(_ r: AuditReport) {
        let range = r.firstSent.map { "sent \(TimeFormat.iso8601($0)) – \(TimeFormat.iso8601(r.lastSent ?? $0))" } ?? "no envelopes"
        print("\(r.envelopes) envelopes, \(r.bytes) bytes of RLP, \(r.topics.count) topics, \(range)")
        print("\ntopics:")
        for t in r.topics {
            print("  \(t.topic)  \(t.count) envelopes  \(t.bytes) bytes  \(TimeFormat.iso8601(t.firstSent)) – \(TimeFormat.iso8601(t.lastSent))")
        }
        print("\nper hour (sent time, UTC):")
        for h in r.hours {
            let parts = h.topics.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("  \(TimeFormat.iso8601(h.hour))  \(h.count)  \(parts)")
        }
        for (name, hist) in [("sizes (20 + len(Data))", r.sizes), ("TTL", r.ttls), ("proof of work", r.pows)] {
            print("\n\(name):")
            for b in hist.buckets where b.count > 0 { print("  \(b.label): \(b.count)") }
        }
        if !r.skipped.isEmpty { print("\nskipped damaged data (not covered by this report): \(r.skipped.count) ranges") }
        print("\nanomalies: \(r.anomalies.count)")
        if r.arrivalUnknown > 0 {
            print("  not judged on arrival (arrival time unknown): \(r.arrivalUnknown) envelopes")
        }
        for a in r.anomalies {
            var line = "  \(a.kind.rawValue)  \(a.hash)  topic \(a.topic)  sent \(TimeFormat.iso8601(a.sent))"
            if let arrival = a.arrival { line += "  arrived \(TimeFormat.iso8601(arrival))" }
            line += ": \(a.detail)"
            if let f = a.firstHash { line += " (first \(f))" }
            print(line)
        }
        for k in r.keys {
            print(
                "\n\(k.label): opened \(k.opened) envelopes (\(k.unsigned) unsigned), \(k.payloadBytes) payload bytes"
                    + (k.payloadSizeMin.map { ", sizes \($0)–\(k.payloadSizeMax ?? $0)" } ?? "")
            )
            for s in k.signers { print("  signer \(s.publicKey): \(s.count)") }
            for h in k.envelopes { print("  opens \(h)") }
        }
        if !r.signers.isEmpty {
            print("\nsigners:")
            for s in r.signers { print("  \(s.publicKey)  \(s.count)  (\(s.keys.joined(separator: ", ")))") }
        }
        if let payloads = r.payloads {
            print("\npayloads:")
            for p in payloads {
                print("  \(p.hash) [\(p.key)]" + (p.signer.map { " signed by \($0)" } ?? "") + ": " + (p.text.map { "\"\($0)\"" } ?? p.payload))
            }
        }
    }
}
