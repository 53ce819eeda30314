import EthCrypto
import NIOCore
import NIOPosix
import Testing

@testable import DevP2P

extension SocketTests {
    @Suite("Hostile input on a live server", .serialized)
    struct HostileInputTests {
        /// A server whose handshake timeout outlasts a handshake of a debug build on a loaded CI machine
        /// (CI once took over 2 s between the auth and the Hello); the timeout test sets a short one.
        static func server(handshakeTimeout: TimeAmount = .seconds(10), connectionsPerSecondPerIP: Int? = 32) async throws -> (RLPxServer, PrivateKey)
        {
            let key = PrivateKey.generate()
            var config = Loopback.config(key, handshakeTimeout: handshakeTimeout)
            config.connectionsPerSecondPerIP = connectionsPerSecondPerIP
            return (try await Loopback.echoServer(config), key)
        }

        @Test("junk instead of auth: closed, server still serves")
        func junk() async throws {
            let (server, _) = try await Self.server()
            let raw = try await RawClient(port: server.localAddress.port!)
            // The server may close while the junk is still being written: that is a pass, not an error.
            try? await raw.send([0x01, 0x80] + Loopback.noise(0x180))
            #expect(await raw.readUntilClosed() == 0)
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("oversize auth size prefix: closed at once")
        func oversizeAuth() async throws {
            let (server, _) = try await Self.server(handshakeTimeout: .seconds(120))
            let raw = try await RawClient(port: server.localAddress.port!)
            let start = ContinuousClock.now
            try await raw.send([0x7F, 0xFF, 0x00])
            #expect(await raw.readUntilClosed() == 0)
            // Closed on the prefix alone, not by the handshake timeout: with the timeout at 120 s, half of it is room
            // enough for a loaded machine (a 5 s bound failed at 5.6 and 6.8 s beside builds and benches).
            #expect(ContinuousClock.now - start < .seconds(60))
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("truncated auth, and a peer that never sends anything: closed by the handshake timeout", arguments: [0, 100])
        func truncated(bytes: Int) async throws {
            let (server, key) = try await Self.server(handshakeTimeout: .seconds(2))
            let start = ContinuousClock.now
            let raw = try await RawClient(port: server.localAddress.port!)
            var hs = HandshakeStateMachine(initiator: raw.key, remote: key.publicKey)
            let auth = try hs.makeAuth()
            // On a loaded machine the handshake timeout may already have closed the connection: that is a pass too.
            if bytes > 0 { try? await raw.send(Array(auth.prefix(bytes))) }
            #expect(await raw.readUntilClosed() == 0)
            let waited = ContinuousClock.now - start
            // Not closed before the timeout; closed by it at all. The upper bound is loose on purpose: on 2 loaded
            // cores (fuzzers and builds beside the suite) the close was seen 8 s after a 2 s timeout.
            #expect(waited > .milliseconds(1500) && waited < .seconds(30))
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("valid handshake, then a bad header MAC or bad frame MAC: Disconnect(protocol error)", arguments: [0, 40])
        func badMAC(offset: Int) async throws {
            let (server, key) = try await Self.server()
            let raw = try await RawClient(port: server.localAddress.port!)
            try await raw.handshake(server: key.publicKey)
            var frame = try raw.frameBytes(msgID: 0x10, payload: [UInt8](repeating: 1, count: 64), compress: true)
            frame[offset] ^= 0x80
            try await raw.send(frame)
            #expect(await raw.readDisconnect() == .protocolError)
            #expect(await raw.readUntilClosed() >= 0)
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("oversize frame before Hello: Disconnect(protocol error)")
        func oversizeFrame() async throws {
            let (server, key) = try await Self.server()
            let raw = try await RawClient(port: server.localAddress.port!)
            try await raw.handshake(server: key.publicKey, version: 4, sendHello: false)
            let frame = try raw.frameBytes(msgID: 0, payload: [UInt8](repeating: 0xC0, count: 5000), compress: false)
            try await raw.send(Array(frame.prefix(32)))  // the header alone must be enough
            #expect(await raw.readDisconnect() == .protocolError)
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("Hello with a wrong or null identity: Disconnect(unexpected / invalid identity)", arguments: [true, false])
        func wrongIdentity(null: Bool) async throws {
            let (server, key) = try await Self.server()
            let raw = try await RawClient(port: server.localAddress.port!)
            let id = null ? [UInt8](repeating: 0, count: 64) : PrivateKey.generate().publicKey.bytes
            try await raw.handshake(server: key.publicKey, helloNodeID: id, version: 4)
            #expect(await raw.readDisconnect() == (null ? .invalidIdentity : .unexpectedIdentity))
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("bad RLP in Hello: Disconnect(protocol error)")
        func badRLP() async throws {
            let (server, key) = try await Self.server()
            let raw = try await RawClient(port: server.localAddress.port!)
            try await raw.handshake(server: key.publicKey, version: 4, sendHello: false)
            try await raw.sendFrame(msgID: 0, payload: [0xF8, 0x05, 0x01], compress: false)
            #expect(await raw.readDisconnect() == .protocolError)
            try await Loopback.checkServes(server)
            await server.close()
        }

        @Test("200 connections opened at once: the server keeps serving, and times them out")
        func flood() async throws {
            // As from 200 addresses: all from 127.0.0.1 they would meet the per-IP connection budget first
            // (tested in LoopbackTests); this test is about 200 handshakes left pending.
            let (server, _) = try await Self.server(handshakeTimeout: .seconds(4), connectionsPerSecondPerIP: nil)
            let port = server.localAddress.port!
            let clients = try await withThrowingTaskGroup(of: RawClient.self) { group in
                for _ in 0..<200 { group.addTask { try await RawClient(port: port) } }
                var all: [RawClient] = []
                for try await c in group { all.append(c) }
                return all
            }
            try await Loopback.checkServes(server)
            await withTaskGroup(of: Int.self) { group in
                for c in clients { group.addTask { await c.readUntilClosed() } }
                for await n in group { #expect(n == 0) }
            }
            try await Loopback.checkServes(server)
            await server.close()
        }
    }
}
