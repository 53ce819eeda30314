import DevP2P
import EthCrypto
import Foundation
import MailServer
import TestSupport
import Testing
import Whisper

/// Mailservers that converge: serve's sync peers, the `sync` command, and the 123/124 protocol.
@Suite("sync between mailservers", .serialized)
struct SyncTests {
    /// A node of a fleet: its key file, port and enode URL, known before it starts.
    struct Member {
        let dir: URL
        let keyFile: String
        let port: Int
        let enode: String

        init(_ name: String, in root: URL) async throws {
            dir = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            keyFile = dir.appendingPathComponent("node.key").path
            #expect(try await CLI.run(["keygen", "--output", keyFile]).status == 0)
            port = LoopbackHTTP.freePort()
            enode = EnodeURL(publicKey: try NodeKey.load(keyFile).publicKey, host: "127.0.0.1", tcpPort: port).description
        }

        var archive: String { dir.appendingPathComponent("archive").path }

        func start(syncingFrom others: [Member], interval: Int = 1) async throws -> ServerProcess {
            try await ServerProcess(
                archive: URL(fileURLWithPath: archive),
                arguments: ["--node-key", keyFile, "--listen", "127.0.0.1:\(port)", "--min-pow", "0", "--sync-interval", "\(interval)"]
                    + others.flatMap { ["--sync-peer", $0.enode] }
            )
        }

        /// The hashes in the archive, read beside the running server.
        func hashes() async throws -> [String] {
            let r = try await CLI.run(["export", "--archive", archive, "--format", "jsonl", "--output", "-", "--log-level", "error"])
            return r.stdout.split(separator: "\n").compactMap { line in
                line.components(separatedBy: "\"hash\":\"").dropFirst().first.map { String($0.prefix(66)) }
            }
        }
    }

    static func envelopes(_ n: Int, seed: UInt64) -> [Envelope] {
        let now = currentUnixTime()
        return (0..<n).map { i in
            Envelope(expiry: now + 600, ttl: 600 + UInt32(i % 50), topic: Topic(rawValue: UInt32(i % 5)), data: SecureRandom.bytes(80), nonce: seed &* 1000 &+ UInt64(i))
        }
    }

    static func post(_ envelopes: [Envelope], to server: ServerProcess) async throws {
        let client = try await MailClient.connect(to: try EnodeURL(parsing: server.enode), key: .generate(), proto: .waku, confirmations: true)
        try await client.post(envelopes)
        _ = await client.next(code: MailCode.batchAcknowledged, timeout: 20)
        await client.close()
    }

    /// Waits until every member holds exactly `expected` (each once); returns the last reading.
    static func converge(_ members: [Member], to expected: Set<String>, timeout: Double = 60) async throws -> [[String]] {
        let deadline = Date().addingTimeInterval(timeout)
        var readings: [[String]] = []
        while Date() < deadline {
            readings = []
            for m in members { readings.append(try await m.hashes()) }
            if readings.allSatisfy({ Set($0) == expected && $0.count == expected.count }) { return readings }
            try await Task.sleep(for: .milliseconds(300))
        }
        return readings
    }

    @Test("three nodes, each a sync peer of the others: posts to any node reach all three; a stopped node catches up")
    func threeNodesConverge() async throws {
        let root = try CLI.temporaryDirectory("wa-sync")
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try await Member("a", in: root), b = try await Member("b", in: root), c = try await Member("c", in: root)
        let sa = try await a.start(syncingFrom: [b, c])
        let sb = try await b.start(syncingFrom: [a, c])
        var sc = try await c.start(syncingFrom: [a, b])
        let batches = (0..<3).map { Self.envelopes(40, seed: UInt64($0 + 1)) }
        try await Self.post(batches[0], to: sa)
        try await Self.post(batches[1], to: sb)
        try await Self.post(batches[2], to: sc)
        var expected = Set(batches.flatMap { $0.map { "0x" + $0.hash.hex } })
        var readings = try await Self.converge([a, b, c], to: expected)
        #expect(readings.allSatisfy { Set($0) == expected && $0.count == expected.count }, "\(readings.map(\.count)) of \(expected.count)")

        // c is down while a and b take more posts; back up, it catches up, and nothing is stored twice.
        #expect(await sc.stop() == 0)
        let more = [Self.envelopes(30, seed: 7), Self.envelopes(30, seed: 8)]
        try await Self.post(more[0], to: sa)
        try await Self.post(more[1], to: sb)
        expected.formUnion(more.flatMap { $0.map { "0x" + $0.hash.hex } })
        sc = try await c.start(syncingFrom: [a, b])
        readings = try await Self.converge([a, b, c], to: expected)
        #expect(readings.allSatisfy { Set($0) == expected && $0.count == expected.count }, "\(readings.map(\.count)) of \(expected.count)")
        let log = sc.stderrSoFar()
        #expect(log.contains("info: synced ") && log.contains("method=sync"), "\(log.suffix(2000))")
        for s in [sa, sb, sc] { #expect(await s.stop() == 0) }
    }

    @Test("sync: the protocol with a partner that trusts us, ordinary requests with one that does not")
    func syncCommandFallsBackToRequests() async throws {
        let root = try CLI.temporaryDirectory("wa-sync")
        defer { try? FileManager.default.removeItem(at: root) }
        let us = try await Member("us", in: root)
        let posted = Self.envelopes(2500, seed: 3)
        let input = root.appendingPathComponent("in.rlp")
        try Data(posted.flatMap(\.rlp)).write(to: input)
        let served = root.appendingPathComponent("served")
        #expect(try await CLI.run(["import", "--archive", served.path, input.path]).status == 0)
        let trusting = try await ServerProcess(archive: served, arguments: ["--trusted-peer", us.enode])
        let first = try await CLI.run(["sync", "--archive", us.archive, "--peer", trusting.enode, "--node-key", us.keyFile, "--from", "0", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("\"method\":\"sync\"") && first.stdout.contains("\"added\":2500"), "\(first.stdout)")
        #expect(first.stdout.contains("\"pages\":3"), "three pages of at most 1000: \(first.stdout)")
        #expect(await trusting.stop() == 0)

        // Not trusted: the sync request is refused with its error response, and ordinary requests fetch the same.
        let other = try await ServerProcess(archive: served)
        defer { other.terminate() }
        let fresh = root.appendingPathComponent("fresh").path
        let second = try await CLI.run(["sync", "--archive", fresh, "--peer", other.enode, "--from", "0", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("\"method\":\"requests\"") && second.stdout.contains("\"added\":2500"), "\(second.stdout)")
        // Again into the first copy: everything is there already.
        let again = try await CLI.run(["sync", "--archive", us.archive, "--peer", other.enode, "--from", "0", "--json", "--requests-only"])
        #expect(again.stdout.contains("\"fetched\":2500") && again.stdout.contains("\"added\":0"), "\(again.stdout)")
    }

    @Test("123/124 as status-go frames them: bundles and a final response for a trusted peer; errors otherwise")
    func syncProtocolFraming() async throws {
        let root = try CLI.temporaryDirectory("wa-sync")
        defer { try? FileManager.default.removeItem(at: root) }
        let posted = Self.envelopes(30, seed: 9)
        let input = root.appendingPathComponent("in.rlp")
        try Data(posted.flatMap(\.rlp)).write(to: input)
        let served = root.appendingPathComponent("served")
        #expect(try await CLI.run(["import", "--archive", served.path, input.path]).status == 0)
        let partner = PrivateKey.generate()
        let partnerURL = EnodeURL(publicKey: partner.publicKey, host: "127.0.0.1", tcpPort: 1).description
        let server = try await ServerProcess(archive: served, arguments: ["--trusted-peer", partnerURL])
        defer { server.terminate() }
        let node = try EnodeURL(parsing: server.enode)

        // Each question on a connection of its own; the next one waits until the server has seen this one go (the
        // partner's key may be connected once at a time: a second connection would be refused as a duplicate).
        var asked = 0
        func ask(_ key: PrivateKey, _ payload: [UInt8]) async throws -> [SyncResponse] {
            let client = try await MailClient.connect(to: node, key: key, proto: .whisper)
            try await client.send(code: SyncCode.request, payload: payload)
            var responses: [SyncResponse] = []
            while let m = await client.next(code: SyncCode.response, timeout: 10) {
                let r = try SyncResponse(payload: m.payload)
                responses.append(r)
                if r.final || !r.error.isEmpty { break }
            }
            await client.close()
            asked += 1
            try await server.waitForStderr("info: peer disconnected", count: asked)
            return responses
        }
        let now = currentUnixTime()
        let page = try await ask(partner, SyncRequest(lower: 0, upper: now + 3600, limit: 20).encoded)
        let final = try #require(page.last)
        #expect(final.final && final.error.isEmpty && final.envelopes.isEmpty && final.cursor.count == Cursor.length, "\(final)")
        #expect(page.dropLast().allSatisfy { !$0.final && $0.cursor.isEmpty && $0.error.isEmpty })
        #expect(page.flatMap(\.envelopes).count == 20)
        let rest = try await ask(partner, SyncRequest(lower: 0, upper: now + 3600, limit: 20, cursor: final.cursor).encoded)
        #expect(rest.flatMap(\.envelopes).count == 10 && rest.last?.final == true && rest.last?.cursor.isEmpty == true)
        let all = Set((page + rest).flatMap(\.envelopes).map { Keccak256.hash($0).hex })
        #expect(all == Set(posted.map(\.hash.hex)))

        let untrusted = try await ask(.generate(), SyncRequest(lower: 0, upper: now, limit: 20).encoded)
        #expect(untrusted.count == 1 && untrusted[0].error.contains("trusted") && !untrusted[0].final, "\(untrusted)")
        for limit: UInt32 in [0, 1001] {
            let bad = try await ask(partner, SyncRequest(lower: 0, upper: now, limit: limit).encoded)
            #expect(bad.count == 1 && bad[0].error.contains("Limit"), "limit \(limit): \(bad)")
        }
        let backwards = try await ask(partner, SyncRequest(lower: now, upper: 0, limit: 5).encoded)
        #expect(backwards.first?.error.contains("Lower") == true, "\(backwards)")
        // The response codec: the same bytes back.
        let sample = SyncResponse(envelopes: [posted[0].rlp], cursor: [1, 2], final: true, error: "")
        #expect(try SyncResponse(payload: sample.encoded) == sample)
    }
}
