import ArchiveStore
import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import MailServer
import Whisper

/// `whisper-archive replay`: push archived envelopes to peers.
struct ReplayCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Push archived envelopes to peers, as history (0x7f) or as live traffic (code 1).",
        discussion: """
            historic: sends 0x7f batches as a mailserver answer (the peer must trust us). \
            live: posts code-1 messages for envelopes that have not expired yet. Paced by \
            --rate envelopes per second, with a summary per peer.

            Example:
              whisper-archive replay --archive ./archive --peer enode://<key>@127.0.0.1:30303 --mode live --rate 500
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable { case historic, live }

    @OptionGroup var location: ArchiveLocation<ReplayedArchive>

    @Option(name: .customLong("peer"), help: ArgumentHelp("A peer's enode URL (repeatable).", valueName: "enode"))
    var peers: [String]

    @Option(help: ArgumentHelp("Earliest sent time.", valueName: "time"))
    var from: TimeArgument?

    @Option(help: ArgumentHelp("Latest sent time.", valueName: "time"))
    var to: TimeArgument?

    @Option(name: .customLong("topic"), help: ArgumentHelp("Only this topic (repeatable).", valueName: "hex"))
    var topics: [TopicArgument] = []

    @Option(help: "historic (0x7f) or live (code 1).")
    var mode: Mode = .historic

    @Option(help: "Envelopes per second (0: as fast as the peer takes them).")
    var rate = 0.0

    @Option(name: .customLong("protocol"), help: "Sub-protocol to speak.")
    var proto: MailProtocol = .whisper

    @Option(
        name: .customLong("node-key"),
        help: ArgumentHelp("Our node key file: the identity a peer trusts as its mailserver (default: a fresh key).", valueName: "file"),
        completion: .file()
    )
    var nodeKey: String?

    @Flag(help: "Print the per-peer summary as JSON lines.")
    var json = false

    func validate() throws {
        if peers.isEmpty { throw ValidationError("give at least one --peer") }
        for p in peers where EnodeURL(p)?.isDialable != true { throw ValidationError("--peer: not a dialable enode URL: \(p)") }
        if !(rate >= 0) || !rate.isFinite { throw ValidationError("--rate must be a finite number ≥ 0") }
        if let from, let to, from.seconds > to.seconds { throw ValidationError("--from is after --to") }
    }

    func run() async throws {
        let archive = location.directory
        let store: Archive
        do { store = try Archive(directory: archive, configuration: .reader) } catch { throw CLIError(String(describing: error)) }
        defer { store.close() }
        let filter = EnvelopeFilter(
            from: from?.seconds ?? 0,
            to: to?.seconds ?? .max,
            topics: topics.isEmpty ? .all : .list(topics.map(\.topic))
        )
        var envelopes: [Envelope] = []
        let now = currentUnixTime()
        do {
            try store.scan(filter, order: .key) { archived in
                guard let e = try? archived.envelope() else { return }
                if mode == .live && e.expiry < now { return }
                envelopes.append(e)
            }
        } catch { throw CLIError("reading \(archive) failed: \(String(describing: error))") }
        let key = try nodeKey.map(KeyFile.read) ?? .generate()
        var failed = false
        for p in peers {
            let node = EnodeURL(p)!
            let start = Date()
            var sent = 0
            do {
                let client = try await MailClient.connect(to: node, key: key, proto: proto)
                let batch = rate > 0 ? max(1, Int(rate / 10)) : 256
                var i = 0
                while i < envelopes.count {
                    let chunk = Array(envelopes[i..<min(i + batch, envelopes.count)])
                    if mode == .historic { try await client.deliverHistoric(chunk) } else { try await client.post(chunk) }
                    sent += chunk.count
                    i += chunk.count
                    if rate > 0 {
                        let due = Double(sent) / rate - Date().timeIntervalSince(start)
                        if due > 0 { try await Task.sleep(nanoseconds: UInt64(due * 1e9)) }
                    }
                }
                // Give the last frames time to leave before disconnecting.
                try await Task.sleep(nanoseconds: 200_000_000)
                await client.close()
                report(peer: node, sent: sent, seconds: Date().timeIntervalSince(start), error: nil)
            } catch {
                failed = true
                report(peer: node, sent: sent, seconds: Date().timeIntervalSince(start), error: "\(error)")
            }
        }
        if failed { throw CLIError("replay failed for at least one peer", exitCode: 1) }
    }

    func report(peer: EnodeURL, sent: Int, seconds: Double, error: String?) {
        let who = "\(peer.host ?? "?"):\(peer.tcpPort)"
        if json {
            print(
                "{\"peer\":\"\(who)\",\"mode\":\"\(mode.rawValue)\",\"envelopes\":\(sent),\"seconds\":\(seconds)"
                    + (error.map { ",\"error\":\(EnvelopeJSON.quote($0))" } ?? "") + "}"
            )
        } else {
            print("\(who): \(sent) envelopes (\(mode.rawValue)) in \(String(format: "%.2f", seconds)) s" + (error.map { ", failed: \($0)" } ?? ""))
        }
    }
}
