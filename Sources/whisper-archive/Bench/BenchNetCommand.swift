import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import NIOPosix

/// `whisper-archive bench net`: RLPx throughput and handshake rate over loopback.
struct BenchNetCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "net",
        abstract: "RLPx payload throughput on one loopback connection, and handshakes per second.",
        discussion: """
            Throughput: one connection, one direction, random (incompressible) payloads of \
            1 KiB and 64 KiB (--sizes) sent in batches of about 256 KiB per flush, with snappy on (p2p v5) and off (v4); the figure is payload \
            MB/s, the median of --runs. Handshakes: dial + accept + Hello exchange, several \
            at a time. Use a release build.

            The ceiling is what this machine allows on loopback: both ends MAC every byte with \
            Keccak-256, so it is half of what two threads hashing 64 KiB buffers at once reach \
            together (measured in the same run); the largest size's snappy-off figure is also \
            given as a fraction of it.

            Example:
              whisper-archive bench net --runs 5 --megabytes 256 --json
            """
    )

    @Option(help: "Repetitions of each measurement (the median is reported).")
    var runs = 5

    @Option(parsing: .upToNextOption, help: "Message payload sizes in bytes.")
    var sizes = [1024, 64 * 1024]

    @Option(help: "Payload megabytes sent per throughput run.")
    var megabytes = 128

    @Option(help: "Handshakes per handshake run.")
    var handshakes = 400

    @Option(help: "Handshakes in flight at once.")
    var concurrency = 8

    @OptionGroup var output: BenchOutputOptions

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if megabytes < 1 { throw ValidationError("--megabytes must be at least 1") }
        if sizes.isEmpty || sizes.contains(where: { $0 < 1 || $0 > 1 << 20 }) {
            throw ValidationError("--sizes must be between 1 and 1048576 bytes")
        }
        if handshakes < 1 || concurrency < 1 { throw ValidationError("--handshakes and --concurrency must be at least 1") }
    }

    static let capability = SupportedCapability(name: "bench", version: 1, messageCount: 1, maxMessageSize: 1 << 20)

    static func configuration(version: UInt64) -> RLPxConfiguration {
        var c = RLPxConfiguration(nodeKey: .generate(), capabilities: [capability])
        c.protocolVersion = version
        c.logger.logLevel = .critical
        c.connectionsPerSecondPerIP = nil  // the handshake figure is the node's capacity, all from 127.0.0.1
        return c
    }

    func run() async throws {
        var figures = BenchFigures()
        for size in sizes {
            for snappy in [true, false] {
                let value = try await throughput(size: size, snappy: snappy)
                figures.append("throughput_\(size >= 1024 ? "\(size / 1024)KiB" : "\(size)B")_snappy_\(snappy ? "on" : "off")", value, "MB/s")
            }
        }
        let ceiling = keccakCeiling()
        figures.append("ceiling_keccak_2_threads_half", ceiling, "MB/s")
        if let largest = sizes.max(), let off = figures.value(of: "throughput_\(largest / 1024)KiB_snappy_off") {
            figures.append("fraction_of_ceiling_\(largest / 1024)KiB", 100 * off / ceiling, "%")
        }
        figures.append("handshakes", try await handshakeRate(), "handshakes/s")

        if output.json {
            print(figures.json(BenchFigures.whole, extra: ["runs": runs]))
        } else {
            print("figure                              median        unit   (\(runs) runs)")
            for line in figures.table(nameWidth: 34, { BenchFigures.whole($0, width: 10) }) { print(line) }
        }
    }

    /// Payload MB/s from a dialer to a server that only counts what it reads.
    func throughput(size: Int, snappy: Bool) async throws -> Double {
        let version: UInt64 = snappy ? 5 : 4
        // One event loop thread per side, as if sender and receiver were two machines: on the shared group both
        // channels may land on the same thread and then share one core.
        let serverLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dialerLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await RLPxServer.bind(
            host: "127.0.0.1",
            port: 0,
            configuration: Self.configuration(version: version),
            group: serverLoop
        )
        let peer = try await RLPxDialer.connect(to: server.enode, configuration: Self.configuration(version: version), group: dialerLoop)
        var accepted = server.peers.makeAsyncIterator()
        guard let remote = await accepted.next() else { throw ValidationError("the server accepted no peer") }
        let payloads = (0..<16).map { _ in SecureRandom.bytes(size) }
        let count = max(1, megabytes * 1_000_000 / size)
        var results: [Double] = []
        var inbound = remote.messages.makeAsyncIterator()
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            async let sent: Void = {
                // Batches of about 256 KiB per flush.
                let batch = max(1, min(64, 256 * 1024 / size))
                var i = 0
                while i < count {
                    let n = min(batch, count - i)
                    try await peer.send(
                        contentsOf: (i..<(i + n)).map {
                            RLPxMessage(capability: "bench", code: 0, payload: payloads[$0 & 15])
                        }
                    )
                    i += n
                }
            }()
            var received = 0
            while received < count, await inbound.next() != nil { received += 1 }
            try await sent
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            results.append(Double(count * size) / elapsed / 1e6)
        }
        await peer.disconnect()
        await server.close()
        // The two loops stay up until the process exits: the close paths still schedule work on them.
        return median(results)
    }

    /// Half the Keccak-256 MB/s of two threads hashing 64 KiB buffers at once: the most one loopback
    /// connection can carry here, since the sender and the receiver each absorb every byte.
    func keccakCeiling() -> Double {
        let buffer = SecureRandom.bytes(64 * 1024)
        let rounds = 4000
        var results: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                var h = Keccak256()
                buffer.withUnsafeBytes { for _ in 0..<rounds { h.update($0) } }
                blackHole(h.finalize()[0])
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            results.append(Double(2 * rounds * buffer.count) / elapsed / 1e6 / 2)
        }
        return median(results)
    }

    /// Complete handshakes (TCP connect, auth/ack, Hello both ways) per second.
    func handshakeRate() async throws -> Double {
        let server = try await RLPxServer.bind(
            host: "127.0.0.1",
            port: 0,
            configuration: Self.configuration(version: 5),
            maxPeers: handshakes + concurrency
        )
        defer { Task { await server.close() } }
        let drain = Task { for await peer in server.peers { _ = peer } }
        defer { drain.cancel() }
        let dialer = Self.configuration(version: 5)
        let node = server.enode
        var results: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            var peers: [RLPxPeer] = []
            try await withThrowingTaskGroup(of: RLPxPeer.self) { group in
                var started = 0
                for _ in 0..<min(concurrency, handshakes) {
                    group.addTask { try await RLPxDialer.connect(to: node, configuration: dialer) }
                    started += 1
                }
                for try await peer in group {
                    peers.append(peer)
                    if started < handshakes {
                        group.addTask { try await RLPxDialer.connect(to: node, configuration: dialer) }
                        started += 1
                    }
                }
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            results.append(Double(peers.count) / elapsed)
            for p in peers { await p.disconnect() }
        }
        return median(results)
    }
}
