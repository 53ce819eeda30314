import ArchiveStore
import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import MailServer
import Whisper

/// `whisper-archive request`: fetch history from any mailserver.
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Fetch history from a mailserver (ours, status-go, or any compatible one).",
        discussion: """
            Sends a signed history request (encrypted with the password's key, or to the \
            server's node key when no password is given), collects the 0x7f batches and the \
            0x7d completion, and with --all follows the cursor until the server says done. \
            Envelopes go into an archive (--into, deduplicated) or to standard output as JSON lines.

            Examples:
              whisper-archive request --peer enode://<key>@127.0.0.1:30303 --password status-offline-inbox --all --into ./copy
              whisper-archive request --peer enode://<key>@10.0.0.5:30303 --topic f26e7779 --from 2024-05-01 --dialect direct --protocol waku
            """
    )

    enum Dialect: String, ExpressibleByArgument, CaseIterable {
        case rlp7, rlp6, legacy, direct
    }

    enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable {
        case shh, waku
    }

    @Option(help: ArgumentHelp("The mailserver's enode URL.", valueName: "enode"))
    var peer: String

    @Option(help: "The mailserver password (default: encrypt to the server's node key).")
    var password: String?

    @Option(help: ArgumentHelp("Earliest sent time (default: 24 hours ago).", valueName: "time"))
    var from: TimeArgument?

    @Option(help: ArgumentHelp("Latest sent time (default: now).", valueName: "time"))
    var to: TimeArgument?

    @Option(name: .customLong("topic"), help: ArgumentHelp("Only this topic (repeatable; default: all).", valueName: "hex"))
    var topics: [TopicArgument] = []

    @Option(help: "Envelopes per page (the server caps it at 1000).")
    var limit: UInt32 = 1000

    @Flag(help: "Follow cursors until the server reports the last page.")
    var all = false

    @Option(help: "Request payload dialect.")
    var dialect: Dialect = .rlp7

    @Option(name: .customLong("protocol"), help: "Sub-protocol to speak.")
    var proto: ProtocolChoice = .shh

    @Option(help: ArgumentHelp("Store the envelopes in this archive (created if missing).", valueName: "dir"))
    var into: String?

    @Flag(help: "Print the summary as JSON (envelopes go to --into, or as JSON lines before it).")
    var json = false

    @Option(help: "Seconds to wait for each page.")
    var timeout = 30.0

    @Option(name: .customLong("node-key"), help: "Our key file (default: a fresh key).")
    var nodeKey: String?

    @Option(name: .customLong("pow"), help: "PoW of the request envelope.")
    var pow = 0.002

    func validate() throws {
        guard EnodeURL(peer)?.isDialable == true else { throw ValidationError("--peer must be an enode URL with host and port") }
        if dialect == .legacy && proto == .waku { throw ValidationError("waku has no legacy binary requests") }
        if limit > 1000 { throw ValidationError("--limit must be at most 1000") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let node = EnodeURL(peer)!
        let key = try nodeKey.map(KeyFile.read) ?? PrivateKey.generate()
        let now = currentUnixTime()
        let lower = from?.seconds ?? now &- 86400
        let upper = to?.seconds ?? now
        let store: Archive? = try into.map { dir in
            do { return try Archive(directory: dir) } catch { throw CLIError("\(error)") }
        }
        defer { store?.close() }
        let client: MailClient
        do {
            client = try await MailClient.connect(to: node, key: key, proto: proto == .shh ? .whisper : .waku)
        } catch {
            throw CLIError("\(error)")
        }
        let start = Date()
        var total = 0, pages = 0, bytes = 0, added = 0
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
                throw CLIError("\(error)")
            }
            progress.update("request", count: total)
        }
        repeat {
            var request = MailRequest(lower: lower, upper: upper, bloom: topics.isEmpty ? Bloom.full.bytes : Bloom(topics: topics.map(\.topic)).bytes,
                                      topics: topics.isEmpty ? [] : topics.map(\.topic), limit: limit, cursor: cursor, batch: true)
            let payload: [UInt8]
            let requestID: [UInt8]
            switch dialect {
            case .direct:
                request.id = SecureRandom.bytes(32)
                request.dialect = proto == .shh ? .directWhisper : .directWaku
                payload = request.encoded()
                requestID = request.directRequestID!
            case .rlp7, .rlp6, .legacy:
                request.dialect = dialect == .rlp7 ? .rlp7 : dialect == .rlp6 ? .rlp6 : .legacy
                if dialect == .legacy && lower < upper && upper - lower > 86400 {
                    throw CLIError("legacy requests span at most 24 hours (status-go rejects wider ranges)")
                }
                let sealing: SealingKey = password.map { .password($0) } ?? .asymmetric(node.publicKey)
                let envelope = try MailClient.requestEnvelope(request, sealing: sealing, signer: key, pow: pow)
                payload = envelope.rlp
                requestID = envelope.hash
            }
            let page: MailClient.PendingPage
            do { page = try await client.request(payload: payload, requestID: requestID, timeout: timeout) } catch {
                await client.close()
                try? await finishStoring()  // the pages received before the failure stay stored
                throw CLIError("\(node.host ?? "?"):\(node.tcpPort): \(error)")
            }
            if case .failure(_, let message) = page.completion {
                await client.close()
                try? await finishStoring()
                throw CLIError("the mailserver answered with an error: \(message)")
            }
            pages += 1
            bytes += page.bytes
            try await finishStoring()
            storing = Task {
                let envelopes = try await page.envelopes()
                if let store { return (envelopes.count, try await store.append(envelopes).added) }
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
            writeStandardError("request: \(total) envelopes in \(pages) pages, \(bytes) bytes, \(String(format: "%.2f", seconds)) s" +
                               (store != nil ? ", \(added) new in \(into!)" : "") + "\n")
        }
    }
}
