import ArchiveStore
import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import MailServer
import Whisper

/// `whisper-archive request`: fetch history from any mailserver.
struct RequestCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Fetch history from a mailserver (ours, status-go, or any compatible one).",
        discussion: """
            Sends a signed history request (encrypted with the password's key, or to the \
            server's node key when no password is given), collects the 0x7f batches and the \
            0x7d completion, and with --all follows the cursor until the server says done. \
            Envelopes go into an archive (--into, deduplicated; their arrival is stored as unknown, \
            since only the server saw them arrive) or to standard output as JSON lines.

            The window is --from to --to (sent time, inclusive). --all without --from asks for the \
            whole history: from 0 (1970) to now plus the 10 s clock allowance; without --all the \
            default is the last 24 hours. Every request names the window it asked for on standard \
            error ("request: window FROM to TO, topics: ..., peer HOST:PORT"), so a guessed default never goes unseen.

            Examples:
              whisper-archive request --peer enode://<key>@127.0.0.1:30303 --password status-offline-inbox --all --into ./copy
              whisper-archive request --peer enode://<key>@10.0.0.5:30303 --topic f26e7779 --from 2024-05-01 --dialect direct --protocol waku
            """
    )

    enum Dialect: String, ExpressibleByArgument, CaseIterable {
        case rlp7, rlp6, legacy, direct
    }

    @Option(help: ArgumentHelp("The mailserver's enode URL.", valueName: "enode"))
    var peer: String

    @Option(help: "The mailserver password (default: encrypt to the server's node key).")
    var password: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("As --password, with the password read from this file.", valueName: "file"), completion: .file())
    var passwordFile: String?

    @Option(help: ArgumentHelp("Earliest sent time (default: 24 hours ago; with --all: 0, the whole history).", valueName: "time"))
    var from: TimeArgument?

    @Option(help: ArgumentHelp("Latest sent time (default: now; with --all: now + 10 s, the clock allowance).", valueName: "time"))
    var to: TimeArgument?

    @Option(name: .customLong("topic"), help: ArgumentHelp("Only this topic (repeatable; default: all).", valueName: "hex"))
    var topics: [TopicArgument] = []

    @Option(help: "Envelopes per page (the server caps it at 1000).")
    var limit: UInt32 = 1000

    @Flag(help: "Follow cursors until the server reports the last page; without --from/--to, the whole history.")
    var all = false

    @Option(help: "Request payload dialect.")
    var dialect: Dialect = .rlp7

    @Option(name: .customLong("protocol"), help: "Sub-protocol to speak.")
    var proto: MailProtocol = .whisper

    @Option(help: ArgumentHelp("Store the envelopes in this archive (created if missing).", valueName: "dir"), completion: .directory)
    var into: String?

    @Flag(help: "Print the summary as JSON (envelopes go to --into, or as JSON lines before it).")
    var json = false

    @Option(help: "Seconds to wait for each page.")
    var timeout = 30.0

    @Option(name: .customLong("node-key"), help: ArgumentHelp("Our key file (default: a fresh key).", valueName: "file"), completion: .file())
    var nodeKey: String?

    @Option(name: .customLong("pow"), help: "PoW of the request envelope.")
    var pow = 0.002

    func validate() throws {
        guard EnodeURL(peer)?.isDialable == true else { throw ValidationError("--peer must be an enode URL with host and port") }
        if dialect == .legacy && proto == .waku { throw ValidationError("waku has no legacy binary requests") }
        if password != nil && passwordFile != nil { throw ValidationError("give --password or --password-file, not both") }
        if limit > 1000 { throw ValidationError("--limit must be at most 1000") }
        if !(timeout > 0) || !timeout.isFinite { throw ValidationError("--timeout must be a positive number of seconds") }
        if !(pow >= 0) || !pow.isFinite { throw ValidationError("--pow must be a finite number ≥ 0") }
        if let from, let to, from.seconds > to.seconds { throw ValidationError("--from is after --to") }
        if dialect == .legacy && all && from == nil {
            throw ValidationError("--dialect legacy spans at most 24 hours: give --from (and --to) with --all")
        }
    }

    /// The window asked for, and how each end was chosen (for the line on standard error).
    func window(now: UInt32) -> (lower: UInt32, upper: UInt32, lowerSource: String, upperSource: String) {
        let lower: UInt32
        let upper: UInt32
        let lowerSource: String
        let upperSource: String
        if let from {
            (lower, lowerSource) = (from.seconds, "--from")
        } else if all {
            (lower, lowerSource) = (0, "--all: the whole history")
        } else {
            (lower, lowerSource) = (now > 86_400 ? now - 86_400 : 0, "default: 24 hours ago; --all or --from for more")
        }
        if let to {
            (upper, upperSource) = (to.seconds, "--to")
        } else if all {
            let (sum, overflow) = now.addingReportingOverflow(ReceivePolicy.syncAllowance)
            (upper, upperSource) = (overflow ? .max : sum, "--all: now + \(ReceivePolicy.syncAllowance) s clock allowance")
        } else {
            (upper, upperSource) = (now, "default: now")
        }
        return (lower, upper, lowerSource, upperSource)
    }

    func run() async throws {
        // Read before anything is dialled: a missing file fails at once.
        let mailPassword = try passwordFile.map(PasswordFile.read) ?? password
        let node = EnodeURL(peer)!
        let key = try nodeKey.map(KeyFile.read) ?? PrivateKey.generate()
        let now = currentUnixTime()
        let (lower, upper, lowerSource, upperSource) = window(now: now)
        let store: Archive? = try into.map { dir in
            do { return try Archive(directory: dir) } catch { throw CLIError(String(describing: error)) }
        }
        defer { store?.close() }
        let client: MailClient
        do {
            client = try await MailClient.connect(to: node, key: key, proto: proto)
        } catch {
            throw CLIError(String(describing: error))
        }
        // Said before the first page is asked for, so that a default window never goes unseen (a failure to
        // connect stays the one line of its error).
        let topicText = topics.isEmpty ? "all" : topics.map { "0x\($0.topic.bytes.hex)" }.joined(separator: ", ")
        let window =
            ("request: window \(TimeFormat.iso8601(lower)) (\(lower), \(lowerSource)) to \(TimeFormat.iso8601(upper)) "
                + "(\(upper), \(upperSource)), topics: \(topicText), peer \(client.address)")
        LogLine.cli.notice("\(window)")
        let start = Date()
        var total = 0
        var pages = 0
        var bytes = 0
        var added = 0
        var cursor: [UInt8] = []
        let progress = ProgressLine()
        // A page is decoded (and, with --into, stored) while the next one is requested; one page at a time, in order.
        var storing: Task<(envelopes: Int, added: Int), any Error>?
        func finishStoring() async throws {
            guard let pending = storing else { return }
            storing = nil
            do {
                let done = try await pending.value
                total += done.envelopes
                added += done.added
            } catch {
                throw CLIError("storing into \(into ?? "-") failed: \(String(describing: error))")
            }
            progress.update("request", count: total)
        }
        repeat {
            var request = MailRequest(
                lower: lower,
                upper: upper,
                bloom: topics.isEmpty ? Bloom.full.bytes : Bloom(topics: topics.map(\.topic)).bytes,
                topics: topics.isEmpty ? [] : topics.map(\.topic),
                limit: limit,
                cursor: cursor,
                batch: true
            )
            let payload: [UInt8]
            let requestID: [UInt8]
            switch dialect {
            case .direct:
                request.id = SecureRandom.bytes(32)
                request.dialect = proto == .whisper ? .directWhisper : .directWaku
                payload = request.encoded()
                requestID = request.directRequestID!
            case .rlp7, .rlp6, .legacy:
                request.dialect = dialect == .rlp7 ? .rlp7 : dialect == .rlp6 ? .rlp6 : .legacy
                if dialect == .legacy && lower < upper && upper - lower > 86400 {
                    throw CLIError.usage(
                        "--dialect legacy spans at most 24 hours (status-go rejects wider windows): give --from and --to closer together"
                    )
                }
                let sealing: SealingKey = mailPassword.map { .password($0) } ?? .asymmetric(node.publicKey)
                let envelope = try MailClient.requestEnvelope(request, sealing: sealing, signer: key, pow: pow)
                payload = envelope.rlp
                requestID = envelope.hash
            }
            let page: MailClient.PendingPage
            do { page = try await client.request(payload: payload, requestID: requestID, timeout: timeout) } catch {
                await client.close()
                try? await finishStoring()  // the pages received before the failure stay stored
                throw CLIError(String(describing: error))
            }
            if case .failure(_, let message) = page.completion {
                await client.close()
                try? await finishStoring()
                throw CLIError("the mailserver answered with an error: \(message): \(client.address)")
            }
            pages += 1
            bytes += page.bytes
            try await finishStoring()
            storing = Task {
                let envelopes = try await page.envelopes()
                // Only the server saw these envelopes arrive: their arrival is stored as 0, unknown.
                if let store {
                    return (envelopes.count, try await store.append(envelopes, arrivals: [UInt32](repeating: 0, count: envelopes.count)).added)
                }
                for e in envelopes { print(EnvelopeJSON.encode(e)) }
                return (envelopes.count, 0)
            }
            if case .success(_, _, let next) = page.completion, let next, all {
                cursor = next.bytes
            } else {
                cursor = []
            }
        } while !cursor.isEmpty
        await client.close()
        try await finishStoring()
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        if json {
            print("{\"envelopes\":\(total),\"pages\":\(pages),\"bytes\":\(bytes),\"stored\":\(added),\"seconds\":\(seconds)}")
        } else {
            let summary =
                ("request: \(total) envelopes in \(pages) pages, \(bytes) bytes, \(String(format: "%.2f", seconds)) s"
                    + (store != nil ? ", \(added) new in \(into!)" : ""))
            LogLine.cli.notice("\(summary)")
        }
    }
}
