import ArchiveStore
import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import MailServer
import Whisper

/// `whisper-archive sync`: one pull from another mailserver into an archive, from the command line.
struct SyncCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch what another mailserver has and this archive lacks, once.",
        discussion: """
            Asks the peer for every envelope of the window and stores the ones this archive lacks, with the \
            fetch time as their arrival. A whisper peer is asked first with status-go's sync protocol (codes \
            123/124, which it answers only for a trusted partner: give --node-key with the key it trusts); \
            otherwise, and with a waku peer, with ordinary history requests (0x7e) and cursors. Prints what \
            crossed: envelopes fetched, new here, bytes and seconds. The window defaults to the last 24 hours.

            Example:
              whisper-archive sync --archive ./mail --peer enode://<key>@10.0.0.5:30303 --node-key node.key --from 2024-05-01
            """
    )

    @OptionGroup var options: ArchiveOptions<StoreInPlace>

    @Option(help: ArgumentHelp("The mailserver to fetch from.", valueName: "enode"))
    var peer: String

    @Option(help: ArgumentHelp("Earliest sent time (default: 24 hours ago).", valueName: "time"))
    var from: TimeArgument?

    @Option(help: ArgumentHelp("Latest sent time (default: now + 10 s, the clock allowance).", valueName: "time"))
    var to: TimeArgument?

    @Option(help: ArgumentHelp("Only this topic (repeatable).", valueName: "hex"))
    var topic: [TopicArgument] = []

    @Option(help: "The peer's mailserver password, for ordinary requests (default: encrypt them to its node key).")
    var password: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("As --password, with the password read from this file.", valueName: "file"), completion: .file())
    var passwordFile: String?

    @Option(
        name: .customLong("node-key"),
        help: ArgumentHelp("Our node key file: the identity the peer trusts for sync (default: a fresh key).", valueName: "file"),
        completion: .file()
    )
    var nodeKey: String?

    @Flag(name: .customLong("requests-only"), help: "Use ordinary history requests only, not the sync protocol.")
    var requestsOnly = false

    func validate() throws {
        guard EnodeURL(peer)?.isDialable == true else { throw ValidationError("--peer must be an enode URL with host and port") }
        if password != nil && passwordFile != nil { throw ValidationError("give --password or --password-file, not both") }
        if let from, let to, from.seconds > to.seconds { throw ValidationError("--from is after --to") }
    }

    func run() async throws {
        let mailPassword = try passwordFile.map(PasswordFile.read) ?? password
        let key = try nodeKey.map(KeyFile.read) ?? PrivateKey.generate()
        let node = EnodeURL(peer)!
        let now = currentUnixTime()
        var pull = SyncPull.Options(
            lower: from?.seconds ?? (now > 86_400 ? now - 86_400 : 0),
            upper: to?.seconds ?? now &+ ReceivePolicy.syncAllowance,
            key: key
        )
        pull.topics = topic.map(\.topic)
        pull.password = mailPassword
        pull.useSyncProtocol = !requestsOnly
        let store = try await options.openStore(mode: .writer)
        let summary: SyncPull.Summary
        do { summary = try await SyncPull.run(from: node, into: store, options: pull) } catch {
            await store.close()
            throw CLIError("sync with \(MailClient.address(of: node)) failed (\(error.summary.added) new envelopes stored first): \(error.description)")
        }
        await store.close()
        if options.json {
            print(jsonLine(summary))
        } else {
            let how = summary.method == "sync" ? "the sync protocol (codes 123/124)" : "history requests (0x7e)"
            print(
                String(
                    format: "synced from %@ by %@: fetched %d, missing here %d (stored), sent 0, %d bytes, %.2f s",
                    MailClient.address(of: node),
                    how,
                    summary.fetched,
                    summary.added,
                    summary.bytes,
                    summary.seconds
                )
            )
        }
    }
}
