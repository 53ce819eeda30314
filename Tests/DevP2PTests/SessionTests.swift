import EthCrypto
import Glibc
import RLP
import Testing

@testable import DevP2P

@Suite("p2p session and capability negotiation")
struct SessionTests {
    let local = PrivateKey.generate().publicKey
    let remote = PrivateKey.generate().publicKey
    let caps = [
        SupportedCapability(name: "shh", version: 6, messageCount: 128, maxMessageSize: 1000),
        SupportedCapability(name: "waku", version: 1, messageCount: 32),
    ]

    func session() -> P2PSession {
        P2PSession(configuration: .init(clientID: "t", capabilities: caps), localPublicKey: local, remotePublicKey: remote)
    }

    func helloFrame(_ hello: Hello) -> [UInt8] { [0x80] + hello.encode() }

    @Test("offsets: sorted by name, highest shared version, each capability's length")
    func offsets() {
        let local = [
            SupportedCapability(name: "snap", version: 1, messageCount: 8),
            SupportedCapability(name: "eth", version: 68, messageCount: 17),
            SupportedCapability(name: "eth", version: 69, messageCount: 18),
            SupportedCapability(name: "les", version: 2, messageCount: 21),
        ]
        let remote = [Capability(name: "eth", version: 68), Capability(name: "snap", version: 1), Capability(name: "eth", version: 69)]
        let n = NegotiatedCapability.negotiate(local: local, remote: remote)
        #expect(n.map(\.description) == ["eth/69@0x10+18", "snap/1@0x22+8"])
        let n68 = NegotiatedCapability.negotiate(local: Array(local[0...1]), remote: remote)
        #expect(n68.map(\.description) == ["eth/68@0x10+17", "snap/1@0x21+8"])
    }

    @Test("Hello identity checks", arguments: [0, 1, 2])
    func identity(kind: Int) throws {
        var s = session()
        let node: [UInt8] = kind == 0 ? [UInt8](repeating: 0, count: 64) : kind == 1 ? [1, 2, 3] : PrivateKey.generate().publicKey.bytes
        let hello = Hello(protocolVersion: 5, clientID: "x", capabilities: [Capability(name: "shh", version: 6)], listenPort: 0, nodeID: node)
        do {
            _ = try s.receive(helloFrame(hello))
            Issue.record("accepted a bad identity")
        } catch {
            #expect(error.code == (kind == 2 ? .unexpectedIdentity : .invalidIdentity))
            #expect(error.disconnectReason == (kind == 2 ? .unexpectedIdentity : .invalidIdentity))
        }
    }

    @Test("message ids map to capabilities; reserved codes are ignored; out-of-range ids and oversize payloads fail")
    func mapping() throws {
        var s = session()
        let hello = Hello(
            protocolVersion: 4,
            clientID: "x",
            capabilities: [Capability(name: "waku", version: 1), Capability(name: "shh", version: 6)],
            listenPort: 0,
            nodeID: remote.bytes
        )
        guard case .established(_, let n) = try s.receive(helloFrame(hello)) else {
            Issue.record("no Hello")
            return
        }
        #expect(n.map(\.description) == ["shh/6@0x10+128", "waku/1@0x90+32"])
        #expect(!s.snappy)
        #expect(try s.receive([0x81, 0x90, 0xC0]) == .message(RLPxMessage(capability: "waku", code: 0, payload: [0xC0])))
        #expect(try s.receive([0x11, 0x01]) == .message(RLPxMessage(capability: "shh", code: 1, payload: [0x01])))
        #expect(try s.receive([0x05, 0xC0]) == P2PSession.Event.none)
        #expect(try s.receive([0x02, 0xC0]) == .reply(.init(msgID: 3, payload: [0xC0], compress: false)))
        #expect(throws: RLPxError.self) { try s.receive([0x81, 0xB0, 0xC0]) }
        #expect(throws: RLPxError.self) { try s.receive([0x10] + [UInt8](repeating: 0, count: 1001)) }
        #expect(throws: RLPxError.self) { try s.receive([0x81, 0x05]) }  // non-canonical msg-id
        #expect(try s.frame(for: RLPxMessage(capability: "waku", code: 31, payload: [])).msgID == 0xAF)
        #expect(throws: RLPxError.self) { try s.frame(for: RLPxMessage(capability: "waku", code: 32, payload: [])) }
        #expect(throws: RLPxError.self) { try s.frame(for: RLPxMessage(capability: "eth", code: 0, payload: [])) }
        #expect(try s.receive([0x01, 0xC1, 0x04]) == .disconnected(.tooManyPeers))
        #expect(try s.receive([0x01, 0x04]) == .disconnected(.tooManyPeers))
    }

    /// The one outbound check, which `RLPxPeer.send` applies before queueing and `frame(for:)` before framing.
    @Test("an outbound message needs a negotiated capability, a code inside it and a payload within its limit")
    func outboundCheck() throws {
        let negotiated = NegotiatedCapability.negotiate(local: caps, remote: [Capability(name: "shh", version: 6)])
        func code(_ m: RLPxMessage) -> RLPxError.Code? {
            do { _ = try P2PSession.capability(for: m, in: negotiated) } catch { return error.code }
            return nil
        }
        #expect(
            try P2PSession.capability(
                for: RLPxMessage(capability: "shh", code: 127, payload: [UInt8](repeating: 0, count: 1000)),
                in: negotiated
            ).offset == 0x10
        )
        #expect(code(RLPxMessage(capability: "shh", code: 128, payload: [])) == .unknownMessage)
        #expect(code(RLPxMessage(capability: "waku", code: 0, payload: [])) == .unknownMessage)
        #expect(code(RLPxMessage(capability: "shh", code: 1, payload: [UInt8](repeating: 0, count: 1001))) == .messageTooLarge)
    }

    @Test("before Hello only Hello or Disconnect are accepted; Disconnect is uncompressed then")
    func beforeHello() throws {
        var s = session()
        #expect(try s.receive([0x01, 0xC1, 0x08]) == .disconnected(.quitting))
        #expect(throws: RLPxError.self) { try s.receive([0x02, 0xC0]) }
        #expect(throws: RLPxError.self) { try s.receive([0x80] + [UInt8](repeating: 0xC0, count: 2049)) }
        #expect(s.disconnectFrame(.requested) == .init(msgID: 1, payload: [0xC1, 0x80], compress: false))
    }

    @Test("enode URLs parse and format")
    func enode() throws {
        let key = "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f"
        let url = try EnodeURL(parsing: "enode://\(key)@127.0.0.1:30303")
        #expect(url.host == "127.0.0.1" && url.tcpPort == 30303 && url.udpPort == 30303)
        #expect(url.description == "enode://\(key)@127.0.0.1:30303")
        let d = try EnodeURL(parsing: "enode://\(key)@[::1]:30303?discport=30301")
        #expect(d.host == "::1" && d.udpPort == 30301)
        #expect(d.description == "enode://\(key)@[::1]:30303?discport=30301")
        #expect(try EnodeURL(parsing: key).isDialable == false)
        // Hex with 0x is accepted everywhere; the URL is printed without it.
        #expect(try EnodeURL(parsing: "enode://0x\(key)@127.0.0.1:30303").description == "enode://\(key)@127.0.0.1:30303")
        #expect(try EnodeURL(parsing: "enode://\(key)@node.example:1").host == "node.example")
        for bad in [
            "enode://\(key.dropLast(2))@127.0.0.1:1", "enr://\(key)@1.2.3.4:1", "enode://\(key)@1.2.3.4",
            "enode://\(key)@1.2.3.4:0", "enode://\(key)@1.2.3.4:70000", "enode://\(String(repeating: "0", count: 128))@1.2.3.4:1",
        ] {
            #expect(throws: RLPxError.self, "\(bad)") { try EnodeURL(parsing: bad) }
        }
    }

    @Test("node key file: write 0600, load back, refuse to overwrite")
    func nodeKey() throws {
        let path = "/tmp/devp2p-nodekey-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(path) }
        let key = PrivateKey.generate()
        try NodeKey.write(key, to: path)
        #expect(try NodeKey.load(path) == key)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(throws: RLPxError.self) { try NodeKey.write(PrivateKey.generate(), to: path) }
        #expect(try NodeKey.load(path) == key)
        #expect(throws: RLPxError.self) { try NodeKey.load(path + ".missing") }
    }
}
