import DevP2P
import EthCrypto
import Foundation
import MailServer
import TestSupport
import Testing
import Whisper

/// What an operator sees and changes in a running `serve`: the log lines, SIGHUP, and static peers that come back.
@Suite("serve: logs, SIGHUP, static peers", .serialized)
struct ServeOperationTests {
    static func write(_ json: String, to path: String) throws {
        try json.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A request for the last two hours on `topic`, sealed with the password "pw".
    static func request(topic: Topic, signer: PrivateKey) throws -> Envelope {
        let now = currentUnixTime()
        var r = MailRequest(lower: now - 7200, upper: now, limit: 10)
        r.topics = [topic]
        return try MailClient.requestEnvelope(r, sealing: .password("pw"), signer: signer, pow: 0.01)
    }

    @Test("info lines: connect and disconnect with the reason, each request answered or refused, each refused connection")
    func infoLinesSayWhatHappened() async throws {
        let (dir, archive, _) = try await ServeRequestTests.makeArchive(count: 30)
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try await ServerProcess(
            archiveArgument: archive.argument,
            arguments: ["--password", "pw", "--rate-limit", "60", "--max-peers", "1"]
        )
        defer { server.terminate() }
        let node = try EnodeURL(parsing: server.enode)
        // One retry: in a full parallel run this first connection of the test process's early tests was seen to
        // stall for the server's 10 s status timeout (its status write never resumed), with the server healthy. The
        // suspect is the test harness (synchronous waits such as ServerProcess.stop on the 2-thread cooperative
        // pool), not serve; the lines checked below are the second connection's then.
        var dialled: MailClient?
        for attempt in 1...2 where dialled == nil {
            do { dialled = try await MailClient.connect(to: node, key: .generate(), proto: .waku) } catch {
                if attempt == 2 { Issue.record("connecting failed: \(error); the server's log: \(server.stderrSoFar())") }
            }
        }
        guard let client = dialled else { return }
        let signer = PrivateKey.generate()
        let first = try Self.request(topic: ServeRequestTests.topics[0], signer: signer)
        let page = try await client.exchange(payload: first.rlp, requestID: first.hash, timeout: 10)
        #expect(page.envelopes.count == 10)
        let second = try Self.request(topic: ServeRequestTests.topics[0], signer: signer)
        _ = try await client.exchange(payload: second.rlp, requestID: second.hash, timeout: 10)
        // A second peer while the one allowed is connected: refused, counted and logged.
        _ = try? await MailClient.connect(to: node, key: .generate(), proto: .waku)
        try await server.waitForStderr("refused a connection")
        await client.close()
        let log = try await server.waitForStderr("info: peer disconnected")
        let lines = log.split(separator: "\n").map(String.init)
        func line(_ prefix: String) -> String? { lines.first { $0.hasPrefix("whisper-archive: info: " + prefix) } }

        let connected = try #require(line("peer connected "), "\(log)")
        #expect(connected.contains("protocols=waku") && connected.contains("client=whisper-archive/"), "\(connected)")
        let answered = try #require(line("request answered "), "\(log)")
        for field in ["dialect=rlp7", "count=10", "topics=1", "limit=10", "proto=waku", "request=0x\(first.hash.hex.prefix(16))", "ms="] {
            #expect(answered.contains(field), "\(field): \(answered)")
        }
        #expect(answered.contains("from=\(currentUnixTime() - 7200)") || answered.contains("from="), "\(answered)")
        let refused = try #require(line("request refused "), "\(log)")
        #expect(refused.contains("reason=\"rate limit exceeded\""), "\(refused)")
        let connection = try #require(line("refused a connection "), "\(log)")
        #expect(connection.contains("reason=max_peers") && connection.contains("address=127.0.0.1"), "\(connection)")
        let gone = try #require(line("peer disconnected "), "\(log)")
        #expect(gone.contains("reason=") && gone.contains("seconds="), "\(gone)")
        // One format: every line the server wrote is `whisper-archive: LEVEL: …`.
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        #expect(lines.allSatisfy { l in levels.contains { l.hasPrefix("whisper-archive: \($0): ") } }, "\(lines)")
    }

    @Test("--log-level and LOG_LEVEL set the level; a bad one is a usage error")
    func logLevelOptionAndEnvironment() async throws {
        let (dir, archive, _) = try await ServeRequestTests.makeArchive(count: 3)
        defer { try? FileManager.default.removeItem(at: dir) }
        let quiet = try await ServerProcess(archiveArgument: archive.argument, arguments: ["--password", "pw", "--log-level", "warning"])
        let r = try await CLI.run(["request", "--peer", quiet.enode, "--password", "pw", "--all", "--from", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(await quiet.stop() == 0)
        #expect(!quiet.stderrAfterExit().contains("info:"), "\(quiet.stderrAfterExit())")

        let fromEnvironment = try await ServerProcess(
            archiveArgument: archive.argument,
            arguments: ["--password", "pw"],
            environment: ["LOG_LEVEL": "error"]
        )
        _ = try await CLI.run(["request", "--peer", fromEnvironment.enode, "--password", "pw", "--all", "--from", "0"])
        #expect(await fromEnvironment.stop() == 0)
        #expect(fromEnvironment.stderrAfterExit().isEmpty, "\(fromEnvironment.stderrAfterExit())")

        // The request command's own lines go too (notice < warning).
        let silent = try await CLI.run(["inspect", "--file", dir.appendingPathComponent("in.rlp").path, "--log-level", "error"])
        #expect(silent.status == 0 && silent.stderr.isEmpty, "\(silent.stderr)")
        let bad = try await CLI.run(["inspect", "--file", dir.appendingPathComponent("in.rlp").path, "--log-level", "loud"])
        #expect(bad.status == 2 && bad.stderr.contains("--log-level"), "\(bad.stderr)")
        let badEnvironment = try await CLI.run(["inspect", "--file", dir.appendingPathComponent("in.rlp").path], environment: ["LOG_LEVEL": "loud"])
        #expect(badEnvironment.status == 2, "\(badEnvironment.stderr)")
        #expect(badEnvironment.stderr == "whisper-archive: error: LOG_LEVEL must be one of trace, debug, info, notice, warning, error, got loud\n")
    }

    @Test("SIGHUP re-reads the config: the log level and the rate limit change live; a broken file changes nothing")
    func sighupReloadsTheConfig() async throws {
        let (dir, archive, _) = try await ServeRequestTests.makeArchive(count: 30)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("serve.json").path
        try Self.write(#"{"LogLevel": "warning", "MailServerPassword": "pw", "MaxPeers": 5}"#, to: config)
        let server = try await ServerProcess(archiveArgument: archive.argument, arguments: ["--config", config])
        defer { server.terminate() }
        let client = try await MailClient.connect(to: try EnodeURL(parsing: server.enode), key: .generate(), proto: .whisper)
        defer { Task { await client.close() } }
        let signer = PrivateKey.generate()
        func ask() async throws -> RequestCompletion {
            let e = try Self.request(topic: ServeRequestTests.topics[1], signer: signer)
            return try await client.exchange(payload: e.rlp, requestID: e.hash, timeout: 10).completion
        }
        guard case .success = try await ask() else { Issue.record("the first request failed"); return }
        #expect(!server.stderrSoFar().contains("request answered"), "logged at warning: \(server.stderrSoFar())")

        try Self.write(#"{"LogLevel": "info", "MailServerPassword": "pw", "MaxPeers": 6, "MailServerRateLimit": 600}"#, to: config)
        kill(server.process.processIdentifier, SIGHUP)
        let reloaded = try await server.waitForStderr("SIGHUP: reloaded the config")
        #expect(reloaded.contains("changed=\"LogLevel warning→info, MailServerRateLimit 0.0→600.0\""), "\(reloaded)")
        #expect(reloaded.contains("needs_restart=MaxPeers"), "\(reloaded)")
        guard case .success = try await ask() else { Issue.record("the request after the reload failed"); return }
        try await server.waitForStderr("info: request answered")
        // The new rate limit holds for this peer from now on.
        guard case .failure(_, let message) = try await ask() else { Issue.record("the rate limit did not change"); return }
        #expect(message.contains("rate limit"), "\(message)")

        try Self.write(#"{"LogLevel": "loud"}"#, to: config)
        kill(server.process.processIdentifier, SIGHUP)
        let refused = try await server.waitForStderr("the config was not reloaded")
        #expect(refused.contains("LogLevel must be one of"), "\(refused)")
        #expect(server.process.isRunning)
        #expect(await server.stop() == 0)
    }

    @Test("a static --peer that is down at start, or goes away, is dialled again until it is back")
    func staticPeersAreRedialled() async throws {
        let dir = try CLI.temporaryDirectory("wa-static")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("b.key").path
        let k = try await CLI.run(["keygen", "--output", keyFile])
        #expect(k.status == 0, "\(k.stderr)")
        let port = LoopbackHTTP.freePort()
        let enodeB = try Self.enode(keyFile: keyFile, port: port)
        // A dials B before B is up, and keeps dialling.
        let a = try await ServerProcess(archive: dir.appendingPathComponent("a"), arguments: ["--peer", enodeB])
        defer { a.terminate() }
        try await a.waitForStderr("cannot dial the static peer")
        let bArguments = ["--node-key", keyFile, "--listen", "127.0.0.1:\(port)"]
        let b = try await ServerProcess(archive: dir.appendingPathComponent("b"), arguments: bArguments)
        try await b.waitForStderr("info: peer connected")
        try await a.waitForStderr("info: peer connected")
        // B goes away and comes back: A connects again.
        #expect(await b.stop() == 0)
        try await a.waitForStderr("static peer gone")
        let b2 = try await ServerProcess(archive: dir.appendingPathComponent("b"), arguments: bArguments)
        defer { b2.terminate() }
        try await b2.waitForStderr("info: peer connected", timeout: 90)
        try await a.waitForStderr("info: peer connected", count: 2)
    }

    /// B's enode URL, from its key file.
    static func enode(keyFile: String, port: Int) throws -> String {
        let key = try NodeKey.load(keyFile)
        return EnodeURL(publicKey: key.publicKey, host: "127.0.0.1", tcpPort: port).description
    }
}
