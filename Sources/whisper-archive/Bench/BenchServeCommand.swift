import ArchiveStore
import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import Logging
import MailServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresArchive
import Whisper

/// `whisper-archive bench serve`: the mailserver answering history requests on loopback.
struct BenchServeCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Envelopes/s to one requesting client, page latency with 1 and 50 clients, and under a flood.",
        discussion: """
            Builds an archive of 1 KiB envelopes (random, incompressible payloads) over 10 days and 100 topics, starts a mailserver \
            in this process on 127.0.0.1, and measures with real RLPx clients: (1) envelopes per \
            second delivered to one client paging through everything with limit 1000 (the median of --runs passes, \
            with the CPU cores the process kept busy meanwhile); (2) latency \
            of a request page (24 h window, 10 topics, limit 1000, password-encrypted and signed) \
            with 1 and with 50 concurrent clients; (3) the same single-client latency while a \
            hostile peer floods junk requests and invalid packets (the server drops it; it reconnects at once, \
            and every 10 ms while the server refuses it). Quiet and flooded single-client pages are \
            timed in 10 alternating blocks, so that both see the machine in the same state. Each latency \
            figure comes from --requests pages (shared among the clients in the loaded run), so that a p99 \
            rests on ten pages or more, not on the single slowest one.

            With --postgres-url, the same envelopes also go into that PostgreSQL database (empty, or holding \
            exactly these from an earlier run), and the delivery figure is measured for two clients at once: from \
            the embedded archive, from one serve node on the database, and from two nodes sharing it (one client \
            each), so that the gain of a second node is read beside the first.

            Example:
              swift build -c release && .build/release/whisper-archive bench serve --envelopes 1000000
            """
    )

    @Option(help: "Envelopes in the archive.")
    var envelopes = 1_000_000

    @Option(help: "Pages timed for each latency figure: quiet, flooded, and in all by the concurrent clients.")
    var requests = 1000

    @Option(help: "Concurrent clients in the loaded latency run.")
    var clients = 50

    @Option(help: "Passes of the delivery figure (one client paging through everything); the median is reported.")
    var runs = 3

    @Option(
        name: .customLong("postgres-url"),
        help: ArgumentHelp(
            "Also fill this empty PostgreSQL database with the same envelopes and measure the delivery rate to two clients from one serve node on it and from two.",
            valueName: "url"
        )
    )
    var postgresURL: String?

    @OptionGroup var directoryOption: BenchDirectoryOptions<BenchArchiveOfEnvelopes>

    @OptionGroup var output: BenchOutputOptions

    func validate() throws {
        if envelopes < 10_000 { throw ValidationError("--envelopes must be at least 10000") }
        if requests < 10 || clients < 1 { throw ValidationError("--requests ≥ 10 and --clients ≥ 1") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let postgresURL {
            do { _ = try PostgresLocation(url: postgresURL) } catch { throw ValidationError("--postgres-url: \(error.message)") }
        }
    }

    func run() async throws {
        // The servers' lines would drown the figures: errors only, unless --log-level asks for more.
        if logging.level == nil { LogLine.level.withLock { $0 = .error } }
        let work = try directoryOption.workDirectory(prefix: "wa-bench-serve")
        defer { work.removeIfTemporary() }
        let start: UInt32 = 1_700_000_000
        let span: UInt32 = 10 * 86400
        let topics = (0..<100).map { Topic(rawValue: UInt32($0) &* 0x9E37_79B9) }
        // An archive found in --directory is served as a reader: the bench never writes to it.
        let path = work.file("archive")
        let data = BenchEnvelopes(count: envelopes, topics: topics, start: start, span: UInt64(span), ttl: 60)
        let store = try await BenchArchive.openOrBuild(path, from: data) { reused in
            writeStandardError(
                reused
                    ? "reusing the archive of \(envelopes) envelopes in \(path) (read only)\n"
                    : "building an archive of \(envelopes) envelopes…\n"
            )
        }

        let serverKey = PrivateKey.generate()
        var config = MailServerConfiguration(nodeKey: serverKey, password: "bench")
        config.minPoW = 0
        let node = try await MailServerNode.start(store: store, configuration: config, host: "127.0.0.1", port: 0, maxPeers: clients + 10)
        let runner = Task { await node.run() }
        var enode = node.enode
        enode.host = "127.0.0.1"
        let sealing = SealingKey.password("bench")

        // This machine's speed in the same run: every delivered byte is MACed by both ends and hashed by the client.
        let keccak = Self.keccakRate()

        // (1) One client pages through everything, --runs times.
        let median = try await Self.medianDelivery(runs: runs, to: [enode], expecting: envelopes, start: start, span: span, sealing: sealing)
        // With --postgres-url, the embedded archive's figure for two clients at once, beside the database's.
        let embeddedTwo =
            postgresURL == nil
            ? nil : try await Self.medianDelivery(runs: runs, to: [enode, enode], expecting: envelopes, start: start, span: span, sealing: sealing)

        // (2) Page latency, 1 client and N clients.
        let target = enode
        func pct(_ v: [Double], _ p: Double) -> Double { v[min(v.count - 1, Int(Double(v.count) * p))] }
        let many = try await Self.latencies(
            clients: clients,
            enode: target,
            requests: max(1, requests / clients),
            topics: topics,
            start: start,
            span: span,
            sealing: sealing
        )
        let (one, flooded, flood) = try await Self.quietAndFlooded(
            enode: target,
            requests: requests,
            topics: topics,
            start: start,
            span: span,
            sealing: sealing
        )

        await node.shutdown()
        runner.cancel()
        store.close()

        var figures = BenchFigures()
        figures.append("delivered_envelopes_per_s_1_client", median.throughput, "envelopes/s")
        figures.append("cpu_cores_busy_while_delivering", median.cores, "cores")
        if let postgresURL, let embeddedTwo {
            let database = try await postgresDelivery(url: postgresURL, data: data, start: start, span: span, serverKey: serverKey)
            figures.append("delivered_envelopes_per_s_2_clients", embeddedTwo.throughput, "envelopes/s")
            figures.append("postgres_1_node_delivered_per_s_2_clients", database.oneNode.throughput, "envelopes/s")
            figures.append("postgres_2_nodes_delivered_per_s_2_clients", database.twoNodes.throughput, "envelopes/s")
            figures.append("postgres_2_nodes_over_1_node", database.twoNodes.throughput / database.oneNode.throughput, "ratio")
            figures.append("cpu_cores_busy_postgres_2_nodes", database.twoNodes.cores, "cores")
        }
        figures.append("page_latency_p50_1_client", pct(one, 0.5), "ms")
        figures.append("page_latency_p99_1_client", pct(one, 0.99), "ms")
        figures.append("page_latency_p50_\(clients)_clients", pct(many, 0.5), "ms")
        figures.append("page_latency_p99_\(clients)_clients", pct(many, 0.99), "ms")
        figures.append("page_latency_p50_1_client_flooded", pct(flooded, 0.5), "ms")
        figures.append("page_latency_p99_1_client_flooded", pct(flooded, 0.99), "ms")
        figures.append("flooded_p99_over_quiet_p99", pct(flooded, 0.99) / pct(one, 0.99), "ratio")
        figures.append("flood_connections_per_s", flood.connections, "connections/s")
        figures.append("flood_refused_connects_per_s", flood.refused, "connects/s")
        figures.append("keccak256_1KiB_same_run", keccak, "MB/s")
        if output.json {
            print(figures.json({ "\($0)" }, extra: ["envelopes": envelopes, "runs": runs, "cores": System.coreCount]))
        } else {
            print(
                "bench serve: \(envelopes) envelopes of 1 KiB, delivery the median of \(runs) passes on \(System.coreCount) cores, \(requests) pages per latency figure"
            )
            for line in figures.table(nameWidth: 44, { String(format: "%12.2f", $0) }) { print(line) }
        }
    }

    /// The median, by throughput, of `runs` passes of ``deliverEverything(to:expecting:start:span:sealing:)``.
    static func medianDelivery(
        runs: Int,
        to enodes: [EnodeURL],
        expecting count: Int,
        start: UInt32,
        span: UInt32,
        sealing: SealingKey
    ) async throws -> (throughput: Double, cores: Double) {
        var passes: [(throughput: Double, cores: Double)] = []
        for _ in 0..<runs {
            passes.append(try await deliverEverything(to: enodes, expecting: count, start: start, span: span, sealing: sealing))
        }
        return passes.sorted { $0.throughput < $1.throughput }[passes.count / 2]
    }

    /// One client per entry of `enodes` (a node may be named twice), all at once, each paging through the whole
    /// archive (limit 1000): the envelopes delivered to all of them per second of the whole pass, and the CPU
    /// cores this process kept busy meanwhile (servers and clients together; the machine's count shows how close to
    /// saturation). A client that received other than `count` envelopes fails the bench: its figure would be wrong.
    static func deliverEverything(
        to enodes: [EnodeURL],
        expecting count: Int,
        start: UInt32,
        span: UInt32,
        sealing: SealingKey
    ) async throws -> (throughput: Double, cores: Double) {
        let cpu0 = processCPUSeconds()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for enode in enodes {
                group.addTask { try await deliverEverything(enode: enode, start: start, span: span, sealing: sealing) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if let short = counts.first(where: { $0 != count }) {
            throw CLIError("bench serve: a client paging through everything received \(short) envelopes, not \(count)")
        }
        let delivered = counts.reduce(0, +)
        return (Double(delivered) / seconds, (processCPUSeconds() - cpu0) / seconds)
    }

    /// One client pages through the whole archive (limit 1000); returns how many envelopes it received.
    static func deliverEverything(enode: EnodeURL, start: UInt32, span: UInt32, sealing: SealingKey) async throws -> Int {
        // The client's own event loop thread, as in its own process: on the shared group its channel may land on
        // the server channel's thread, and the two ends would then take turns on one core.
        let clientLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await MailClient.connect(to: enode, key: .generate(), proto: .waku, group: clientLoop)
        let signer = PrivateKey.generate()
        var delivered = 0
        var cursor: [UInt8] = []
        // As `request --all` does: the next request goes out when a completion arrives, while the page's last
        // packets are still being decoded (and hashed).
        var decoding: MailClient.PendingPage?
        repeat {
            let request = MailRequest(lower: start, upper: start + span, limit: 1000, cursor: cursor)
            let envelope = try MailClient.requestEnvelope(request, sealing: sealing, signer: signer, pow: 0)
            let page = try await client.request(payload: envelope.rlp, requestID: envelope.hash, timeout: 60)
            if let previous = decoding { delivered += try await previous.envelopes().count }
            decoding = page
            if case .success(_, _, let next) = page.completion, let next { cursor = next.bytes } else { cursor = [] }
        } while !cursor.isEmpty
        if let last = decoding { delivered += try await last.envelopes().count }
        await client.close()
        try? await clientLoop.shutdownGracefully()
        return delivered
    }

    /// User and system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Sorted page latencies in milliseconds of `clients` concurrent clients.
    static func latencies(
        clients n: Int,
        enode: EnodeURL,
        requests: Int,
        topics: [Topic],
        start: UInt32,
        span: UInt32,
        sealing: SealingKey
    ) async throws -> [Double] {
        let requests = requests
        return try await withThrowingTaskGroup(of: [Double].self) { group in
            for c in 0..<n {
                group.addTask {
                    let client = try await MailClient.connect(to: enode, key: .generate(), proto: .waku)
                    let key = PrivateKey.generate()
                    var out: [Double] = []
                    for _ in 0..<requests {
                        out.append(
                            try await timedPage(
                                client,
                                signer: key,
                                client: c,
                                topics: topics,
                                start: start,
                                span: span,
                                sealing: sealing
                            )
                        )
                    }
                    await client.close()
                    return out
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
    }

    /// Keccak-256 MB/s over 1 KiB inputs on one core (the median of three short runs).
    static func keccakRate() -> Double {
        let block = SecureRandom.bytes(1024)
        return median(3) { keccak256MBps(block, rounds: 50_000) }
    }

    /// The milliseconds of one request page: a random 24 h window, 10 topics, limit 1000.
    static func timedPage(
        _ mail: MailClient,
        signer: PrivateKey,
        client c: Int,
        topics: [Topic],
        start: UInt32,
        span: UInt32,
        sealing: SealingKey
    ) async throws -> Double {
        let from = start + UInt32.random(in: 0..<(span - 86400))
        let chosen = (0..<10).map { topics[($0 * 10 + c) % topics.count] }
        let request = MailRequest(
            lower: from,
            upper: from + 86400,
            bloom: Bloom(topics: chosen).bytes,
            topics: chosen,
            limit: 1000
        )
        let envelope = try MailClient.requestEnvelope(request, sealing: sealing, signer: signer, pow: 0)
        let t = DispatchTime.now().uptimeNanoseconds
        _ = try await mail.exchange(payload: envelope.rlp, requestID: envelope.hash, timeout: 60)
        return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }

    /// How hard the hostile peer pushed, per second of flood.
    struct FloodRates {
        var connections = 0.0
        var refused = 0.0
    }

    /// One honest client's sorted page latencies, quiet and while a hostile peer floods, measured in
    /// alternating blocks (quiet, flooded, quiet, …) so that both see the machine in the same state.
    static func quietAndFlooded(
        enode: EnodeURL,
        requests: Int,
        topics: [Topic],
        start: UInt32,
        span: UInt32,
        sealing: SealingKey
    ) async throws -> ([Double], [Double], FloodRates) {
        // The honest client and the attacker each on an event loop thread of their own, as on their own machines:
        // on the shared group the attacker's handshakes would run on the threads that seal the server's frames.
        let clientLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let attackerLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await MailClient.connect(to: enode, key: .generate(), proto: .waku, group: clientLoop)
        let key = PrivateKey.generate()
        // Generated once: fresh random bytes per packet would cost this process more CPU than the server spends.
        let junkRequest = SecureRandom.bytes(4096)
        let junkMessages = SecureRandom.bytes(65536)
        let counters = NIOLockedValueBox((connections: 0, refused: 0))
        var quiet: [Double] = []
        var flooded: [Double] = []
        var floodSeconds = 0.0
        let blocks = 10
        let perBlock = max(1, requests / blocks)
        for _ in 0..<blocks {
            for _ in 0..<perBlock {
                quiet.append(try await timedPage(client, signer: key, client: 0, topics: topics, start: start, span: span, sealing: sealing))
            }
            let flood = Task {
                var peer: MailClient?
                while !Task.isCancelled {
                    if let p = peer, !p.peer.isClosed {
                        // Junk 0x7e (undecodable: the server drops the peer) and an invalid 0x7f.
                        try? await p.peer.send(capability: "shh", code: MailCode.p2pRequest, payload: junkRequest)
                        try? await p.peer.send(capability: "shh", code: MailCode.messages, payload: junkMessages)
                        _ = await p.peer.waitUntilClosed()
                        continue
                    }
                    // Reconnect at once; when the server refuses (too many connections from this IP), retry
                    // after 10 ms: a refused connect costs the server an accept and a close.
                    if let again = try? await MailClient.connect(to: enode, key: .generate(), proto: .whisper, group: attackerLoop) {
                        peer = again
                        counters.withLockedValue { $0.connections += 1 }
                    } else {
                        counters.withLockedValue { $0.refused += 1 }
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
                // A connection made as the flood was cancelled is closed before its event loop is shut down.
                await peer?.close()
            }
            // Let the flood reach its steady state before timing.
            try await Task.sleep(for: .milliseconds(200))
            let t = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<perBlock {
                flooded.append(try await timedPage(client, signer: key, client: 0, topics: topics, start: start, span: span, sealing: sealing))
            }
            floodSeconds += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 + 0.2
            flood.cancel()
            _ = await flood.value
        }
        await client.close()
        try? await clientLoop.shutdownGracefully()
        try? await attackerLoop.shutdownGracefully()
        let c = counters.withLockedValue { $0 }
        return (
            quiet.sorted(), flooded.sorted(),
            FloodRates(connections: Double(c.connections) / floodSeconds, refused: Double(c.refused) / floodSeconds)
        )
    }
}
