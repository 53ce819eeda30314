import DevP2P
import EthCrypto
import Foundation
import MailServer
import TestSupport
import Testing
import Whisper

/// `serve` on PostgreSQL: several nodes on one database, and a database that goes away and comes back.
@Suite("serve on PostgreSQL", .enabled(if: TestPostgres.available))
struct PostgresServeTests {
    static let topic = Topic(rawValue: 0xF26E_7779)

    static func fresh(_ count: Int, seed: UInt64) -> [Envelope] {
        let now = currentUnixTime()
        return (0..<count).map { i in
            Envelope(expiry: now + 300, ttl: 300, topic: topic, data: SecureRandom.bytes(120), nonce: seed << 32 | UInt64(i))
        }
    }

    static func key(in dir: URL, _ name: String) async throws -> String {
        let path = dir.appendingPathComponent(name).path
        let r = try await CLI.run(["keygen", "--output", path])
        #expect(r.status == 0, "\(r.stderr)")
        return path
    }

    /// The hashes `request --all` gets from `server`.
    static func served(by server: ServerProcess, extra: [String] = []) async throws -> (status: Int32, hashes: Set<String>, stderr: String) {
        let r = try await CLI.run(["request", "--peer", server.enode, "--password", "pw", "--all", "--from", "0", "--limit", "37"] + extra)
        let hashes = r.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let h = line.range(of: "\"hash\":\"0x") else { return nil }
            return String(line[h.upperBound...].prefix(64))
        }
        return (r.status, Set(hashes), r.stderr)
    }

    @Test("two nodes on one database: each serves what was posted to either; duplicates posted to both at once are stored once")
    func twoNodesShareOneDatabase() async throws {
        let dir = try CLI.temporaryDirectory("wa-pg2")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try await TestPostgres.newDatabase()
        let keyA = try await Self.key(in: dir, "a.key")
        let keyB = try await Self.key(in: dir, "b.key")
        // Started together: the schema is created once, by whichever takes the setup lock first.
        async let startA = ServerProcess(archiveArgument: db, arguments: ["--min-pow", "0", "--password", "pw", "--node-key", keyA])
        async let startB = ServerProcess(archiveArgument: db, arguments: ["--min-pow", "0", "--password", "pw", "--node-key", keyB])
        var a = try await startA
        let b = try await startB
        defer { b.terminate() }

        let clientA = try await MailClient.connect(to: try EnodeURL(parsing: a.enode), key: .generate(), proto: .whisper, confirmations: true)
        let clientB = try await MailClient.connect(to: try EnodeURL(parsing: b.enode), key: .generate(), proto: .waku, confirmations: true)
        let onlyA = Self.fresh(30, seed: 1)
        let onlyB = Self.fresh(30, seed: 2)
        let both = Self.fresh(40, seed: 3)
        try await clientA.post(onlyA)
        #expect(await clientA.next(code: MailCode.batchAcknowledged, timeout: 20) != nil, "node A did not confirm")
        try await clientB.post(onlyB)
        #expect(await clientB.next(code: MailCode.batchAcknowledged, timeout: 20) != nil, "node B did not confirm")
        async let postA: Void = clientA.post(both)
        async let postB: Void = clientB.post(both)
        _ = try await (postA, postB)
        async let ackA = clientA.next(code: MailCode.batchAcknowledged, timeout: 20)
        async let ackB = clientB.next(code: MailCode.batchAcknowledged, timeout: 20)
        let (gotA, gotB) = await (ackA, ackB)
        #expect(gotA != nil && gotB != nil, "the duplicate batch was not confirmed by both nodes")
        await clientA.close()
        await clientB.close()

        let all = Set((onlyA + onlyB + both).map { $0.hash.hex })
        let fromA = try await Self.served(by: a)
        let fromB = try await Self.served(by: b, extra: ["--protocol", "waku"])
        #expect(fromA.status == 0 && fromB.status == 0, "\(fromA.stderr) \(fromB.stderr)")
        #expect(fromA.hashes == all)
        #expect(fromB.hashes == all)
        #expect(try await TestPostgres.sql(db, "SELECT count(*) FROM envelopes") == "100")
        #expect(try await TestPostgres.sql(db, "SELECT sum(envelopes) FROM whisper_archive_counts") == "100")

        // A restarted node serves the same history.
        #expect(await a.stop() == 0)
        a = try await ServerProcess(archiveArgument: db, arguments: ["--min-pow", "0", "--password", "pw", "--node-key", keyA])
        defer { a.terminate() }
        #expect(try await Self.served(by: a).hashes == all)
    }

    @Test("the database stopped under serve: requests get ERROR= at once, posts are not confirmed; back up, both work again")
    func serveRidesOutADatabaseRestart() async throws {
        let dir = try CLI.temporaryDirectory("wa-pgfault")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cluster = try await TestPostgres.privateCluster()
        defer { Task { await cluster.remove() } }
        let db = TestPostgres.url(cluster.url, database: "mail")
        try await TestPostgres.sql(cluster.url, "CREATE DATABASE mail")
        let stored = Self.fresh(20, seed: 4)
        let input = dir.appendingPathComponent("in.rlp")
        try Data(stored.flatMap(\.rlp)).write(to: input)
        #expect(try await CLI.run(["import", "--archive", db, input.path]).status == 0)
        let key = try await Self.key(in: dir, "node.key")
        let metricsPort = LoopbackHTTP.freePort()
        let server = try await ServerProcess(
            archiveArgument: db,
            arguments: [
                "--min-pow", "0", "--password", "pw", "--node-key", key,
                "--pg-timeout", "2", "--metrics", "127.0.0.1:\(metricsPort)",
            ]
        )
        defer { server.terminate() }
        #expect(try await Self.served(by: server).hashes == Set(stored.map { $0.hash.hex }))
        /// A counter's value on the metrics page (0 when absent).
        func metric(_ name: String) async throws -> Double {
            let page = try await LoopbackHTTP.get(port: metricsPort, path: "/metrics")
            for line in page.split(separator: "\n") where line.hasPrefix(name + " ") {
                return Double(line.dropFirst(name.count + 1)) ?? -1
            }
            return 0
        }
        #expect(try await metric("whisper_archive_store_errors_total") == 0)
        // The span gauges, read from the database with the count (at start, then every 10 s).
        let deadline = ContinuousClock.now + .seconds(20)
        while try await metric("whisper_archive_newest_sent_seconds") == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await metric("whisper_archive_newest_sent_seconds") == Double(stored.map(\.sentTime).max()!))
        #expect(try await metric("whisper_archive_oldest_sent_seconds") == Double(stored.map(\.sentTime).min()!))
        #expect(try await metric("whisper_archive_segment_bytes") > 0)

        try await cluster.kill()
        let start = ContinuousClock.now
        let down = try await Self.served(by: server, extra: ["--timeout", "20"])
        #expect(down.status != 0)
        #expect(down.stderr.contains("failed to process the request"), "\(down.stderr)")
        #expect(ContinuousClock.now - start < .seconds(15), "the request waited for the database instead of failing")
        let poster = try await MailClient.connect(to: try EnodeURL(parsing: server.enode), key: .generate(), proto: .whisper, confirmations: true)
        let posted = Self.fresh(5, seed: 5)
        try await poster.post(posted)
        // Bounded wait for an absence: the store gives up after --pg-timeout (2 s); a confirmation would come then.
        #expect(await poster.next(code: MailCode.batchAcknowledged, timeout: 6) == nil, "confirmed while the database was down")
        #expect(server.process.isRunning)
        // The outage is counted: the failed request (status-go's "iterator" type) and the failed post.
        #expect(try await metric("whisper_archive_store_errors_total") >= 2)
        #expect(try await metric("mailserver_delivery_failures_total{type=\"iterator\"}") >= 1)
        #expect(try await metric("mailserver_archived_envelopes_failures_total{db=\"postgres\"}") >= 1)

        try await cluster.restart()
        // The pool reconnects with backoff: the first requests after the restart may still fail.
        var back: (status: Int32, hashes: Set<String>, stderr: String) = (1, [], "")
        for _ in 0..<30 {
            back = try await Self.served(by: server)
            if back.status == 0 { break }
        }
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.hashes == Set(stored.map { $0.hash.hex }))
        let again = Self.fresh(5, seed: 6)
        try await poster.post(again)
        #expect(await poster.next(code: MailCode.batchAcknowledged, timeout: 20) != nil, "not confirmed after the database came back")
        await poster.close()
        #expect(
            try await TestPostgres.sql(
                db,
                "SELECT count(*) FROM envelopes WHERE id IN (\(again.map { "'\\x\($0.key.bytes.hex)'" }.joined(separator: ",")))"
            ) == "5"
        )
    }

    @Test("the database stopped during an import: one line and exit 1; the next run finishes it without duplicates")
    func importRidesOutADatabaseRestart() async throws {
        let dir = try CLI.temporaryDirectory("wa-pgimport")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cluster = try await TestPostgres.privateCluster()
        defer { Task { await cluster.remove() } }
        try await TestPostgres.sql(cluster.url, "CREATE DATABASE mail")
        let db = TestPostgres.url(cluster.url, database: "mail")
        let envelopes = Self.fresh(40_000, seed: 7)
        let input = dir.appendingPathComponent("in.rlp")
        try Data(envelopes.flatMap(\.rlp)).write(to: input)

        // The first acknowledged batch is the moment to stop the database.
        let importer = Process()
        importer.executableURL = CLI.binary
        importer.arguments = ["import", "--archive", db, "--batch-size", "100", "--print-acks", "--pg-timeout", "3", input.path]
        let out = Pipe()
        let err = Pipe()
        importer.standardOutput = out
        importer.standardError = err
        try importer.run()
        let acked = try await blocking { () -> Bool in
            var seen = Data()
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                seen += chunk
                if String(decoding: seen, as: UTF8.self).contains("ack ") { return true }
            }
        }
        #expect(acked, "no batch was acknowledged")
        try await cluster.kill()
        let (status, stderr) = try await blocking { () -> (Int32, String) in
            _ = out.fileHandleForReading.readDataToEndOfFile()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            importer.waitUntilExit()
            return (importer.terminationStatus, text)
        }
        #expect(status == 1, "\(stderr)")
        #expect(stderr.contains("import failed") && stderr.contains("postgres://whisper@127.0.0.1"), "\(stderr)")
        #expect(!stderr.contains("whisper-test-password"))

        try await cluster.restart()
        let again = try await CLI.run(["import", "--archive", db, input.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await TestPostgres.sql(db, "SELECT count(*) FROM envelopes") == "40000")
        #expect(try await TestPostgres.sql(db, "SELECT sum(envelopes) FROM whisper_archive_counts") == "40000")
    }

    /// `bench serve --postgres-url`: the database is filled with the bench's envelopes, and every client of one
    /// node and of two nodes on it pages through all of them (the bench fails when a client gets fewer); a second
    /// run reuses the rows, and a database holding other rows is refused.
    @Test("bench serve --postgres-url: delivery to two clients from one node and from two nodes on one database")
    func benchServeOnPostgres() async throws {
        let db = try await TestPostgres.newDatabase()
        let args = ["bench", "serve", "--envelopes", "10000", "--requests", "10", "--clients", "2", "--runs", "1", "--json", "--postgres-url", db]
        let r = try await CLI.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("filling"), "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        func value(_ name: String) -> Double { ((json[name] as? [String: Any])?["value"] as? Double) ?? -1 }
        for name in [
            "delivered_envelopes_per_s_2_clients", "postgres_1_node_delivered_per_s_2_clients",
            "postgres_2_nodes_delivered_per_s_2_clients", "postgres_2_nodes_over_1_node",
        ] {
            #expect(value(name) > 0, "\(name)")
        }
        #expect(try await TestPostgres.sql(db, "SELECT count(*) FROM envelopes") == "10000")
        let again = try await CLI.run(args)
        #expect(again.status == 0 && again.stderr.contains("reusing the 10000 envelopes"), "\(again.stderr)")
        try await TestPostgres.sql(db, "DELETE FROM envelopes WHERE id IN (SELECT id FROM envelopes LIMIT 1)")
        let other = try await CLI.run(args)
        #expect(other.status == 1 && other.stderr.contains("holds 9999 envelopes, not 0 or 10000"), "\(other.stderr)")
    }

    /// Stops every process of the private cluster, or lets them go on: the postmaster and its children (each
    /// backend is a session of its own, so the postmaster's session does not name them).
    @discardableResult
    static func pause(_ cluster: TestPostgres.PrivateCluster, _ signal: String) async throws -> String {
        let pidFile = cluster.directory.appendingPathComponent("data/postmaster.pid")
        let pid = String(try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n")[0])
        let pkill = URL(fileURLWithPath: "/usr/bin/pkill")
        let children = try await CLI.tool(pkill, ["-e", "-\(signal)", "-P", pid])
        let postmaster = try await CLI.tool(URL(fileURLWithPath: "/bin/kill"), ["-\(signal)", pid])
        #expect(
            children.status == 0 && postmaster.status == 0,
            "signal \(signal) to \(pid) and its children: \(children.stdout) \(postmaster.stderr)"
        )
        return children.stdout
    }

    @Test(
        "a stop that cannot finish (the database hangs under a request): the deadline, or a second SIGTERM, ends serve with status 1",
        arguments: [false, true]
    )
    func stopDeadlineAndSecondSignal(secondSignal: Bool) async throws {
        let dir = try CLI.temporaryDirectory("wa-pgstop")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cluster = try await TestPostgres.privateCluster()
        defer { Task { await cluster.remove() } }
        let db = TestPostgres.url(cluster.url, database: "mail")
        try await TestPostgres.sql(cluster.url, "CREATE DATABASE mail")
        let input = dir.appendingPathComponent("in.rlp")
        try Data(Self.fresh(20, seed: 7).flatMap(\.rlp)).write(to: input)
        #expect(try await CLI.run(["import", "--archive", db, input.path]).status == 0)
        let key = try await Self.key(in: dir, "node.key")
        let metricsPort = LoopbackHTTP.freePort()
        let deadline = secondSignal ? 60 : 2
        let server = try await ServerProcess(
            archiveArgument: db,
            arguments: [
                "--min-pow", "0", "--password", "pw", "--node-key", key, "--pg-timeout", "60",
                "--shutdown-timeout", "\(deadline)", "--metrics", "127.0.0.1:\(metricsPort)",
            ]
        )
        defer { server.terminate(signal: SIGKILL) }
        let stopped = try await Self.pause(cluster, "STOP")
        // A request that waits on the stopped database (up to --pg-timeout, 60 s): the stop cannot finish.
        let request = Task { try await Self.served(by: server, extra: ["--timeout", "90"]) }
        var inFlight = false
        for _ in 0..<100 where !inFlight {
            inFlight = try await LoopbackHTTP.get(port: metricsPort, path: "/metrics").contains("\nmailserver_delivery_attempts_total 1\n")
            if !inFlight { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(inFlight, "the request never reached the server")
        let start = ContinuousClock.now
        kill(server.process.processIdentifier, SIGTERM)
        if secondSignal {
            // Still stopping (it waits for the request) when the second signal comes.
            try await Task.sleep(for: .milliseconds(500))
            #expect(server.process.isRunning, "serve stopped although a request was still waiting on the database")
            kill(server.process.processIdentifier, SIGTERM)
        }
        let status = await server.stop(signal: 0, timeout: 30)
        let took = ContinuousClock.now - start
        let stderr = status == 1 ? "" : server.stderrAfterExit()
        let answered = status == 1 ? nil : try? await request.value
        #expect(status == 1, "exit status \(status): \(stderr.suffix(3000)); stopped: \(stopped); the request: \(String(describing: answered))")
        // Far below what waiting would take (the 60 s deadline, or the 60 s statement timeout), with room for a loaded
        // machine: an exit time, not a speed.
        #expect(took < .seconds(30), "took \(took)")
        if !secondSignal { #expect(took >= .seconds(2), "exited before its --shutdown-timeout: \(took)") }
        try await Self.pause(cluster, "CONT")
        _ = try? await request.value
    }
}
