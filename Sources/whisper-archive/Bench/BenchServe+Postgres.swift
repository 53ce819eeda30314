import ArchiveStore
import EthCrypto
import Logging
import MailServer
import PostgresArchive
import Whisper

/// `bench serve --postgres-url URL`: the delivery rate to two clients from one serve node on a PostgreSQL database
/// and from two nodes sharing it (each with a pool of its own, as two processes would have).
extension BenchServeCommand {
    /// Delivery passes on the database: two clients of one node, then one client of each of two nodes.
    struct PostgresDelivery {
        var oneNode: (throughput: Double, cores: Double)
        var twoNodes: (throughput: Double, cores: Double)
    }

    func postgresDelivery(
        url: String,
        data: BenchEnvelopes,
        start: UInt32,
        span: UInt32,
        serverKey: PrivateKey
    ) async throws
        -> PostgresDelivery
    {
        let location: PostgresLocation
        do { location = try PostgresLocation(url: url) } catch { throw CLIError(error.description) }
        var c = PostgresStore.Configuration()
        c.logger = Logger(label: "whisper-archive.bench")
        c.logger.logLevel = .critical
        let first: PostgresStore
        do { first = try await PostgresStore.open(location, configuration: c) } catch { throw CLIError(error.description) }
        let stored = try await first.count()
        switch stored {
        case 0:
            writeStandardError("filling \(location) with the same \(envelopes) envelopes…\n")
            var data = data
            try await data.append(to: first)
        case envelopes:
            writeStandardError("reusing the \(envelopes) envelopes in \(location)\n")
        default:
            await first.close()
            throw CLIError("\(location) holds \(stored) envelopes, not 0 or \(envelopes): give an empty database")
        }
        let second: PostgresStore
        do { second = try await PostgresStore.open(location, configuration: c) } catch {
            await first.close()
            throw CLIError(error.description)
        }

        var config = MailServerConfiguration(nodeKey: serverKey, password: "bench")
        config.minPoW = 0
        let nodeA = try await MailServerNode.start(store: first, configuration: config, host: "127.0.0.1", port: 0, maxPeers: 10)
        config.nodeKey = PrivateKey.generate()
        let nodeB = try await MailServerNode.start(store: second, configuration: config, host: "127.0.0.1", port: 0, maxPeers: 10)
        let runners = [Task { await nodeA.run() }, Task { await nodeB.run() }]
        var a = nodeA.enode
        a.host = "127.0.0.1"
        var b = nodeB.enode
        b.host = "127.0.0.1"
        let sealing = SealingKey.password("bench")
        let result = PostgresDelivery(
            oneNode: try await Self.medianDelivery(runs: runs, to: [a, a], expecting: envelopes, start: start, span: span, sealing: sealing),
            twoNodes: try await Self.medianDelivery(runs: runs, to: [a, b], expecting: envelopes, start: start, span: span, sealing: sealing)
        )
        await nodeA.shutdown()
        await nodeB.shutdown()
        for r in runners { r.cancel() }
        await first.close()
        await second.close()
        return result
    }
}
