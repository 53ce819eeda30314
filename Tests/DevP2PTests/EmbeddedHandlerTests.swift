import EthCrypto
import NIOCore
import NIOEmbedded
import Testing

@testable import DevP2P

/// Two handlers wired back to back through EmbeddedChannels: no sockets, virtual time.
final class EmbeddedPair {
    let a: EmbeddedChannel
    let b: EmbeddedChannel
    let handlerA: RLPxHandler
    let handlerB: RLPxHandler
    let loop = EmbeddedEventLoop()
    let keyA = PrivateKey.generate()
    let keyB = PrivateKey.generate()

    static func config(_ key: PrivateKey, version: UInt64 = 5, format: HandshakeFormat = .eip8) -> RLPxConfiguration {
        var c = RLPxConfiguration(nodeKey: key, capabilities: [SupportedCapability(name: "shh", version: 6, messageCount: 128)])
        c.protocolVersion = version
        c.handshakeFormat = format
        c.handshakeTimeout = .seconds(5)
        c.pingInterval = .seconds(15)
        c.readTimeout = .seconds(30)
        return c
    }

    init(
        versionA: UInt64 = 5,
        versionB: UInt64 = 5,
        format: HandshakeFormat = .eip8,
        tweakA: (inout RLPxConfiguration) -> Void = { _ in }
    ) throws {
        var ca = Self.config(keyA, version: versionA, format: format)
        tweakA(&ca)
        handlerA = RLPxHandler(configuration: ca, remote: keyB.publicKey, eventLoop: loop)
        handlerB = RLPxHandler(configuration: Self.config(keyB, version: versionB), remote: nil, eventLoop: loop)
        a = EmbeddedChannel(handler: handlerA, loop: loop)
        b = EmbeddedChannel(handler: handlerB, loop: loop)
        try b.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try a.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
    }

    /// Moves all pending bytes both ways until quiet; `mutate` may alter A→B chunks.
    func pump(chunk: Int? = nil, mutateAB: ((inout ByteBuffer) -> Void)? = nil) throws {
        var moved = true
        while moved {
            moved = false
            while let buf = try a.readOutbound(as: ByteBuffer.self) {
                var out = buf
                mutateAB?(&out)
                if let chunk {
                    while out.readableBytes > 0, b.isActive, let piece = out.readSlice(length: min(chunk, out.readableBytes)) {
                        try b.writeInbound(piece)
                    }
                } else if b.isActive {
                    try b.writeInbound(out)
                }
                moved = true
            }
            while let buf = try b.readOutbound(as: ByteBuffer.self) {
                if a.isActive { try a.writeInbound(buf) }
                moved = true
            }
        }
    }

    func finish() {
        _ = try? a.finish()
        _ = try? b.finish()
    }
}

@Suite("RLPx handler on EmbeddedChannel")
struct EmbeddedHandlerTests {
    @Test("handshake and Hello both ways; messages both ways", arguments: HandshakeFormat.allCases, [UInt64(4), 5])
    func establish(format: HandshakeFormat, versionB: UInt64) throws {
        let p = try EmbeddedPair(versionB: versionB, format: format)
        defer { p.finish() }
        try p.pump()
        let infoA = try p.handlerA.established.futureResult.wait()
        let infoB = try p.handlerB.established.futureResult.wait()
        #expect(infoA.remotePublicKey == p.keyB.publicKey)
        #expect(infoB.remotePublicKey == p.keyA.publicKey)
        #expect(infoA.format == format && infoB.format == format)
        #expect(infoA.snappy == (versionB >= 5) && infoB.snappy == (versionB >= 5))
        #expect(infoA.capabilities.map(\.description) == ["shh/6@0x10+128"])
        #expect(infoB.hello.clientID.hasPrefix("whisper-archive/"))

        let payloads: [[UInt8]] = [[], [0xC0], Array(repeating: 0x55, count: 70_000), (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }]
        for (i, payload) in payloads.enumerated() {
            try p.a.writeOutbound(RLPxMessage(capability: "shh", code: UInt64(i), payload: payload))
            try p.b.writeOutbound(RLPxMessage(capability: "shh", code: 127, payload: payload))
        }
        try p.pump()
        for (i, payload) in payloads.enumerated() {
            #expect(try p.b.readInbound(as: RLPxMessage.self) == RLPxMessage(capability: "shh", code: UInt64(i), payload: payload))
            #expect(try p.a.readInbound(as: RLPxMessage.self) == RLPxMessage(capability: "shh", code: 127, payload: payload))
        }
    }

    @Test("bytes arriving in small pieces (handshake and frames split anywhere)", arguments: [1, 7, 100])
    func splitDelivery(chunk: Int) throws {
        let p = try EmbeddedPair()
        defer { p.finish() }
        try p.pump(chunk: chunk)
        _ = try p.handlerB.established.futureResult.wait()
        let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for code in 0..<3 { try p.a.writeOutbound(RLPxMessage(capability: "shh", code: UInt64(code), payload: payload)) }
        try p.pump(chunk: chunk)
        for code in 0..<3 {
            #expect(try p.b.readInbound(as: RLPxMessage.self) == RLPxMessage(capability: "shh", code: UInt64(code), payload: payload))
        }
    }

    @Test("Pings are answered, so a live peer stays up past the read timeout")
    func pingKeepsAlive() throws {
        let p = try EmbeddedPair(tweakA: { $0.readTimeout = .seconds(20) })
        defer { p.finish() }
        try p.pump()
        _ = try p.handlerA.established.futureResult.wait()
        for _ in 0..<4 {
            p.loop.advanceTime(by: .seconds(15))
            try p.pump()
        }
        #expect(p.a.isActive && p.b.isActive)
    }

    @Test("a silent peer is dropped with Disconnect(read timeout)")
    func silentPeer() throws {
        let p = try EmbeddedPair(tweakA: { $0.readTimeout = .seconds(20) })
        defer { p.finish() }
        try p.pump()
        _ = try p.handlerA.established.futureResult.wait()
        // B's bytes never reach A from now on.
        p.loop.advanceTime(by: .seconds(15))
        p.loop.advanceTime(by: .seconds(15))
        while let buf = try p.a.readOutbound(as: ByteBuffer.self) { if p.b.isActive { try p.b.writeInbound(buf) } }
        p.loop.advanceTime(by: .seconds(2))
        #expect(!p.a.isActive)
        #expect(try p.handlerA.closed.futureResult.wait().code == .readTimeout)
        let reasonB = try p.handlerB.closed.futureResult.wait()
        #expect(reasonB.code == .disconnectedByPeer)
        #expect(reasonB.remoteReason == .readTimeout)
    }

    @Test("handshake timeout closes a connection that never completes")
    func handshakeTimeout() throws {
        let p = try EmbeddedPair()
        defer { p.finish() }
        _ = try p.a.readOutbound(as: ByteBuffer.self)  // the auth never arrives
        p.loop.advanceTime(by: .seconds(5))
        #expect(!p.a.isActive && !p.b.isActive)
        #expect(try p.handlerB.closed.futureResult.wait().code == .handshakeTimeout)
        #expect(throws: RLPxError.self) { try p.handlerA.established.futureResult.wait() }
    }

    @Test("a corrupted frame ends the connection with Disconnect(protocol error)", arguments: [0, 40])
    func badMAC(offset: Int) throws {
        let p = try EmbeddedPair()
        defer { p.finish() }
        try p.pump()
        _ = try p.handlerB.established.futureResult.wait()
        try p.a.writeOutbound(RLPxMessage(capability: "shh", code: 1, payload: Array(repeating: 1, count: 100)))
        try p.pump { buf in
            // offset 0: header ciphertext (bad header MAC); 40: body (bad frame MAC)
            if let byte = buf.getInteger(at: buf.readerIndex + offset, as: UInt8.self) {
                buf.setInteger(byte ^ 0x01, at: buf.readerIndex + offset)
            }
        }
        p.loop.advanceTime(by: .seconds(2))
        let b = try p.handlerB.closed.futureResult.wait()
        #expect(b.code == (offset == 0 ? .badHeaderMAC : .badFrameMAC))
        let a = try p.handlerA.closed.futureResult.wait()
        #expect(a.remoteReason == .protocolError)
    }

    @Test("disconnect request sends the reason to the peer")
    func disconnect() throws {
        let p = try EmbeddedPair()
        defer { p.finish() }
        try p.pump()
        p.a.pipeline.triggerUserOutboundEvent(RLPxDisconnectRequest(reason: .subprotocolError), promise: nil)
        try p.pump()
        p.loop.advanceTime(by: .seconds(2))
        #expect(try p.handlerB.closed.futureResult.wait().remoteReason == .subprotocolError)
        #expect(try p.handlerA.closed.futureResult.wait().code == .disconnectedLocally)
    }

    @Test("useless peer: no shared capability")
    func useless() throws {
        let p = try EmbeddedPair(tweakA: { $0.capabilities = [SupportedCapability(name: "waku", version: 1, messageCount: 32)] })
        defer { p.finish() }
        try p.pump()
        p.loop.advanceTime(by: .seconds(2))
        #expect(try p.handlerA.closed.futureResult.wait().code == .uselessPeer)
        #expect(try p.handlerB.closed.futureResult.wait().code == .uselessPeer)
    }
}
