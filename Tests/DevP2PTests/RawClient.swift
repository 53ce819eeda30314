import EthCrypto
import NIOCore
import NIOPosix

@testable import DevP2P

/// A hand-driven TCP client for hostile-input tests: raw bytes, or our state machines used by hand.
final class RawClient: @unchecked Sendable {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var received = ByteBuffer()
    let key = PrivateKey.generate()
    var encoder: FrameEncoder?
    var decoder: FrameDecoder?
    var session: P2PSession?

    init(port: Int) async throws {
        let c = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        channel = c
        let (i, o) = await withCheckedContinuation { cont in
            Task {
                try? await c.executeThenClose { i, o in
                    cont.resume(returning: (i, o))
                    try await c.channel.closeFuture.get()
                }
            }
        }
        iterator = i.makeAsyncIterator()
        outbound = o
    }

    func send(_ bytes: [UInt8]) async throws { try await outbound.write(ByteBuffer(bytes: bytes)) }

    /// Reads more bytes; false at EOF.
    func readMore() async -> Bool {
        guard let next = try? await iterator.next() else { return false }
        var n = next
        received.writeBuffer(&n)
        return true
    }

    /// Reads until the server closes; returns the bytes that arrived meanwhile.
    func readUntilClosed() async -> Int {
        var total = 0
        while await readMore() { total = received.readableBytes }
        return total
    }

    /// Runs the encryption handshake by hand and sends our Hello (with `nodeID` overridden if given).
    func handshake(
        server: PublicKey,
        format: HandshakeFormat = .eip8,
        helloNodeID: [UInt8]? = nil,
        version: UInt64 = 5,
        sendHello: Bool = true
    ) async throws {
        var hs = HandshakeStateMachine(initiator: key, remote: server, format: format)
        try await send(try hs.makeAuth())
        var done: HandshakeStateMachine.Completion?
        while done == nil {
            guard await readMore() else { throw RLPxError(.connectionClosed, "closed during handshake") }
            done = try hs.receive(&received)
        }
        guard let d = done else { return }
        encoder = FrameEncoder(secrets: d.secrets)
        decoder = FrameDecoder(secrets: d.secrets)
        session = P2PSession(
            configuration: .init(
                clientID: "raw",
                protocolVersion: version,
                capabilities: [SupportedCapability(name: "shh", version: 6, messageCount: 128)]
            ),
            localPublicKey: key.publicKey,
            remotePublicKey: d.remotePublicKey
        )
        guard sendHello else { return }
        var hello = session!.localHello
        if let helloNodeID { hello.nodeID = helloNodeID }
        try await sendFrame(msgID: 0, payload: hello.encode(), compress: false)
    }

    func frameBytes(msgID: UInt64, payload: [UInt8], compress: Bool) throws -> [UInt8] {
        Array(try encoder!.encode(msgID: msgID, payload: payload, compress: compress).readableBytesView)
    }

    func sendFrame(msgID: UInt64, payload: [UInt8], compress: Bool) async throws {
        try await send(try frameBytes(msgID: msgID, payload: payload, compress: compress))
    }

    /// Reads frames until a Disconnect arrives or the connection closes; returns the reason, if any.
    func readDisconnect() async -> DisconnectReason? {
        while true {
            do {
                while let fd = try decoder!.next(&received) {
                    if case .disconnected(let r) = try session!.receive(fd) { return r }
                }
            } catch {
                return nil
            }
            guard await readMore() else { return nil }
        }
    }

    func close() async { try? await channel.channel.close() }
}
