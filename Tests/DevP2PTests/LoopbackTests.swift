import EthCrypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import DevP2P

/// A clock for the connection budgets that moves only when a test advances it.
final class ManualDeadline: Sendable {
    private let value = NIOLockedValueBox(NIODeadline.uptimeNanoseconds(1_000_000_000))
    var now: NIODeadline { value.withLockedValue { $0 } }
    func advance(_ amount: TimeAmount) { value.withLockedValue { $0 = $0 + amount } }
}

extension RLPxServer {
    /// Waits (up to 10 s) until `n` peers are connected.
    func peerCount(reaches n: Int) async throws -> Bool {
        for _ in 0..<1000 where peerCount != n { try await Task.sleep(for: .milliseconds(10)) }
        return peerCount == n
    }

    /// Waits (up to 10 s) until the connection budget of `ip` is at most `tokens`.
    func budget(of ip: String, reaches tokens: Double) async throws -> Bool {
        func current() -> Double? { state.withLockedValue { $0.perIP[ip]?.tokens } }
        for _ in 0..<1000 where (current() ?? .infinity) > tokens { try await Task.sleep(for: .milliseconds(10)) }
        return (current() ?? .infinity) <= tokens
    }
}

/// Shared helpers for tests over real loopback sockets.
enum Loopback {
    static let shh = SupportedCapability(name: "shh", version: 6, messageCount: 128)

    static func config(
        _ key: PrivateKey = .generate(),
        version: UInt64 = 5,
        format: HandshakeFormat = .eip8,
        handshakeTimeout: TimeAmount = .seconds(5)
    ) -> RLPxConfiguration {
        var c = RLPxConfiguration(nodeKey: key, capabilities: [shh])
        c.protocolVersion = version
        c.handshakeFormat = format
        c.handshakeTimeout = handshakeTimeout
        return c
    }

    /// A server on 127.0.0.1 that echoes every message back to its sender.
    static func echoServer(_ configuration: RLPxConfiguration = config(), maxPeers: Int = 300) async throws -> RLPxServer {
        let server = try await RLPxServer.bind(host: "127.0.0.1", port: 0, configuration: configuration, maxPeers: maxPeers)
        Task {
            for await peer in server.peers {
                Task {
                    for await m in peer.messages {
                        try? await peer.send(m)
                    }
                }
            }
        }
        return server
    }

    /// Dials `server`, sends one message and expects it back.
    static func checkServes(_ server: RLPxServer) async throws {
        let peer = try await RLPxDialer.connect(to: server.enode, configuration: config())
        var it = peer.messages.makeAsyncIterator()
        try await peer.send(capability: "shh", code: 3, payload: [0xC1, 0x01])
        let back = await it.next()
        #expect(back == RLPxMessage(capability: "shh", code: 3, payload: [0xC1, 0x01]))
        await peer.disconnect()
    }

    /// True when `server` refuses a new connection; one it accepts is closed again at once.
    static func refuses(_ server: RLPxServer) async -> Bool {
        do {
            let peer = try await RLPxDialer.connect(to: server.enode, configuration: config())
            await peer.disconnect()
            return false
        } catch {
            return true
        }
    }

    /// Deterministic, poorly compressible bytes.
    static func noise(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var x = seed
        return [UInt8](unsafeUninitializedCapacity: count) { buf, n in
            for i in 0..<count {
                x ^= x << 13
                x ^= x >> 7
                x ^= x << 17
                buf[i] = UInt8(truncatingIfNeeded: x)
            }
            n = count
        }
    }
}

/// Socket suites run one after another: on 2 cores, a 10 MiB debug-build transfer would
/// otherwise starve the handshake timers of a concurrent hostile-input test.
@Suite("RLPx over real sockets", .serialized)
enum SocketTests {}

extension SocketTests {
    @Suite("RLPx dialer and server over loopback", .serialized)
    struct LoopbackTests {
        @Test("handshake both ways, both formats; identities, capabilities, clean close", arguments: HandshakeFormat.allCases)
        func handshake(format: HandshakeFormat) async throws {
            let serverKey = PrivateKey.generate()
            let server = try await RLPxServer.bind(host: "127.0.0.1", port: 0, configuration: Loopback.config(serverKey))
            let dialKey = PrivateKey.generate()
            async let accepted: RLPxPeer? = {
                var it = server.peers.makeAsyncIterator()
                return await it.next()
            }()
            let peer = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config(dialKey, format: format))
            let remote = try #require(await accepted)
            #expect(peer.remotePublicKey == serverKey.publicKey && remote.remotePublicKey == dialKey.publicKey)
            #expect(peer.handshakeFormat == format && remote.handshakeFormat == format)
            #expect(peer.version(of: "shh") == 6 && remote.version(of: "shh") == 6)
            #expect(peer.isSnappyEnabled && remote.isSnappyEnabled)
            #expect(remote.remoteHello.clientID == "whisper-archive/\(RLPxConfiguration.version)")
            #expect(remote.remoteAddress != nil)

            var fromDialer = remote.messages.makeAsyncIterator()
            var fromServer = peer.messages.makeAsyncIterator()
            try await peer.send(capability: "shh", code: 1, payload: [0xC0])
            try await remote.send(capability: "shh", code: 2, payload: [0x80])
            #expect(await fromDialer.next() == RLPxMessage(capability: "shh", code: 1, payload: [0xC0]))
            #expect(await fromServer.next() == RLPxMessage(capability: "shh", code: 2, payload: [0x80]))
            await expectThrows { try await peer.send(capability: "eth", code: 0, payload: []) }

            await peer.disconnect(reason: .requested)
            let why = await remote.waitUntilClosed()
            #expect(why.code == .disconnectedByPeer && why.remoteReason == .requested)
            #expect(await fromDialer.next() == nil)
            #expect(peer.isClosed)
            await server.close()
        }

        @Test("p2p v4 against v5: no snappy either way", arguments: [(UInt64(4), UInt64(5)), (5, 4), (4, 4), (5, 5)])
        func versions(dialer: UInt64, server serverVersion: UInt64) async throws {
            let server = try await Loopback.echoServer(Loopback.config(version: serverVersion))
            let peer = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config(version: dialer))
            #expect(peer.isSnappyEnabled == (dialer >= 5 && serverVersion >= 5))
            #expect(peer.remoteHello.protocolVersion == serverVersion)
            var it = peer.messages.makeAsyncIterator()
            let payload = [UInt8](repeating: 0xAA, count: 3000)
            try await peer.send(capability: "shh", code: 9, payload: payload)
            let back = await it.next()
            #expect(back?.payload == payload ? true : false)
            await peer.disconnect()
            await server.close()
        }

        @Test("messages from 0 bytes to 10 MiB, snappy on and off", arguments: [UInt64(4), 5])
        func sizes(version: UInt64) async throws {
            let server = try await Loopback.echoServer(Loopback.config(version: version))
            let peer = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config(version: version))
            var it = peer.messages.makeAsyncIterator()
            for size in [0, 1, 15, 16, 17, 1024, 65_536, 1 << 20, 10 * 1024 * 1024] {
                let payload = size == 1 << 20 ? [UInt8](repeating: 7, count: size) : Loopback.noise(size)
                try await peer.send(capability: "shh", code: 5, payload: payload)
                let back = await it.next()
                #expect(back?.payload.count == size)
                #expect(back?.payload == payload ? true : false, "size \(size)")
            }
            await expectThrows { try await peer.send(capability: "shh", code: 5, payload: [UInt8](repeating: 0, count: 10 * 1024 * 1024 + 1)) }
            await peer.disconnect()
            await server.close()
        }

        @Test("many peers at once")
        func manyPeers() async throws {
            let server = try await Loopback.echoServer()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        let peer = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
                        var it = peer.messages.makeAsyncIterator()
                        for j in 0..<5 {
                            let payload = Loopback.noise(100 + i * 10 + j, seed: UInt64(i * 100 + j + 1))
                            try await peer.send(capability: "shh", code: UInt64(j), payload: payload)
                            let back = await it.next()
                            #expect(back?.payload == payload ? true : false)
                        }
                        await peer.disconnect()
                    }
                }
                try await group.waitForAll()
            }
            await server.close()
        }

        @Test("an IP over its new-connection budget is closed before the handshake; its peers stay and it may come back")
        func connectionBudgetPerIP() async throws {
            let clock = ManualDeadline()
            var config = Loopback.config()
            config.connectionsPerSecondPerIP = 2  // bursts of 4
            config.connectionBudgetClock = { clock.now }
            // The budget refills only when the test moves the clock, however long the handshakes take.
            let server = try await Loopback.echoServer(config)
            var peers: [RLPxPeer] = []
            for _ in 0..<4 { peers.append(try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())) }
            #expect(await Loopback.refuses(server), "a fifth connection within the burst must be refused")
            #expect(try await server.peerCount(reaches: 4))
            clock.advance(.milliseconds(600))  // one new connection's worth of budget at 2/s
            let again = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
            #expect(try await server.peerCount(reaches: 5))
            #expect(await Loopback.refuses(server), "the refilled budget admits one connection, not two")
            await again.disconnect()
            for p in peers { await p.disconnect() }
            await server.close()
        }

        @Test("a protocol violation charges its IP's connection budget: the next connection waits, honest closes cost nothing")
        func violationCostsTheAddress() async throws {
            let clock = ManualDeadline()
            var config = Loopback.config()
            config.connectionsPerSecondPerIP = 2  // bursts of 4
            config.violationPenalty = 4
            config.connectionBudgetClock = { clock.now }
            let server = try await Loopback.echoServer(config)
            // Honest connections that end normally leave the budget at 4 - 2 = 2.
            for _ in 0..<2 {
                let p = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
                await p.disconnect()
            }
            // Junk instead of auth: one connection (budget 1) and a violation (4): the budget is now -3, once the server
            // has seen the connection end.
            let raw = try await RawClient(port: server.localAddress.port!)
            try? await raw.send([0x01, 0x80] + Loopback.noise(0x180))
            #expect(await raw.readUntilClosed() == 0)
            #expect(try await server.budget(of: "127.0.0.1", reaches: -3))
            #expect(await Loopback.refuses(server), "a connection right after a violation must wait")
            // At 2 per second the debt of 3 (and the refused attempt costs nothing) is repaid after 2 s.
            clock.advance(.milliseconds(1900))
            #expect(await Loopback.refuses(server), "the debt is not repaid yet")
            clock.advance(.milliseconds(400))
            let again = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
            await again.disconnect()
            await server.close()
        }

        @Test("which endings count as violations")
        func violations() {
            #expect(RLPxError(.handshakeInvalid).isViolation)
            #expect(RLPxError(.badFrameMAC).isViolation)
            #expect(RLPxError(.disconnectedLocally, localReason: .protocolError).isViolation)
            #expect(RLPxError(.disconnectedLocally, localReason: .subprotocolError).isViolation)
            #expect(!RLPxError(.disconnectedLocally, localReason: .requested).isViolation)
            #expect(!RLPxError(.disconnectedLocally, localReason: .quitting).isViolation)
            #expect(!RLPxError(.disconnectedByPeer, remoteReason: .protocolError).isViolation)
            #expect(!RLPxError(.connectionClosed).isViolation)
            #expect(!RLPxError(.readTimeout).isViolation)
        }

        @Test("max peers: the extra peer is told too many peers; already-connected keys are refused")
        func maxPeers() async throws {
            let server = try await Loopback.echoServer(maxPeers: 2)
            let p1 = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
            let key2 = PrivateKey.generate()
            let p2 = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config(key2))
            do {
                let p3 = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
                let why = await p3.waitUntilClosed()
                #expect(why.remoteReason == .tooManyPeers)
            } catch {
                #expect(error.remoteReason == .tooManyPeers)
            }
            await p1.disconnect()
            for _ in 0..<100 where server.peerCount > 1 { try await Task.sleep(for: .milliseconds(10)) }
            do {
                let again = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config(key2))
                let why = await again.waitUntilClosed()
                #expect(why.remoteReason == .alreadyConnected)
            } catch {
                #expect(error.remoteReason == .alreadyConnected)
            }
            await p2.disconnect()
            await server.close()
        }

        @Test("backpressure: an unread peer pauses, then all messages arrive in order")
        func backpressure() async throws {
            let server = try await RLPxServer.bind(host: "127.0.0.1", port: 0, configuration: Loopback.config())
            async let accepted: RLPxPeer? = {
                var it = server.peers.makeAsyncIterator()
                return await it.next()
            }()
            let peer = try await RLPxDialer.connect(to: server.enode, configuration: Loopback.config())
            let remote = try #require(await accepted)
            let count = 400
            let sender = Task {
                for i in 0..<count {
                    try await peer.send(capability: "shh", code: 1, payload: Loopback.noise(64 * 1024, seed: UInt64(i + 1)))
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            var got = 0
            for await m in remote.messages {
                #expect(m.payload.count == 64 * 1024)
                got += 1
                if got == count { break }
            }
            try await sender.value
            #expect(got == count)
            await peer.disconnect()
            await server.close()
        }
    }
}

func expectThrows(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await body()
        Issue.record("expected an error", sourceLocation: sourceLocation)
    } catch {}
}
