import EthCrypto
import NIOConcurrencyHelpers
import NIOCore

/// An established RLPx connection: Hello exchanged, capabilities negotiated.
///
/// Read ``messages`` (one consumer), write with ``send(capability:code:payload:)``, end with
/// ``disconnect(reason:)``; ``waitUntilClosed()`` returns once the connection is gone, with why.
/// When ``messages`` is not consumed, reading from the socket pauses (backpressure); ``send``
/// suspends while the socket's send buffer is full.
public final class RLPxPeer: Sendable, CustomStringConvertible {
    /// The peer's static public key (its node identity, checked against its Hello).
    public let remotePublicKey: PublicKey
    /// The peer's socket address.
    public let remoteAddress: SocketAddress?
    /// The peer's Hello (client id, p2p version, all capabilities it announced).
    public let remoteHello: Hello
    /// The capabilities both sides speak, with their message-id offsets.
    public let capabilities: [NegotiatedCapability]
    /// True when messages are snappy-compressed on the wire (both sides p2p ≥ 5).
    public let isSnappyEnabled: Bool
    /// The handshake form the connection used.
    public let handshakeFormat: HandshakeFormat
    /// Inbound sub-protocol messages; the sequence ends when the connection closes.
    public let messages: Messages

    let channel: Channel
    let outbound: NIOAsyncChannelOutboundWriter<RLPxMessage>
    let closed: EventLoopFuture<RLPxError>
    /// The task holding the async channel's scope open; it ends after the channel closed.
    let bridge: Task<Void, Never>
    /// A no-op queued on the event loop behind the previous send's messages (see ``pace()``).
    let previousSend = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)

    init(
        info: RLPxPeerInfo,
        channel: Channel,
        inbound: NIOAsyncChannelInboundStream<RLPxMessage>,
        outbound: NIOAsyncChannelOutboundWriter<RLPxMessage>,
        closed: EventLoopFuture<RLPxError>,
        bridge: Task<Void, Never>
    ) {
        remotePublicKey = info.remotePublicKey
        remoteAddress = channel.remoteAddress
        remoteHello = info.hello
        capabilities = info.capabilities
        isSnappyEnabled = info.snappy
        handshakeFormat = info.format
        messages = Messages(base: inbound)
        self.channel = channel
        self.outbound = outbound
        self.closed = closed
        self.bridge = bridge
    }

    /// The negotiated version of capability `name`, if shared.
    public func version(of name: String) -> UInt64? {
        capabilities.first { $0.name == name }?.version
    }

    /// Sends one message; suspends while the connection cannot take more bytes.
    /// - Throws: ``RLPxError`` when the capability or code was not negotiated, the payload is too
    ///   large, or the connection is closed.
    public func send(capability: String, code: UInt64, payload: [UInt8]) async throws(RLPxError) {
        try await send(RLPxMessage(capability: capability, code: code, payload: payload))
    }

    /// Sends one message (see ``send(capability:code:payload:)``).
    public func send(_ message: RLPxMessage) async throws(RLPxError) {
        try check(message)
        do {
            try await outbound.write(message)
        } catch {
            throw RLPxError(.connectionClosed, "send failed: \(NetworkErrorText.describe(error))")
        }
        await pace()
    }

    /// Sends several messages in order with one socket flush (cheaper than one ``send(_:)`` each);
    /// suspends while the connection cannot take more bytes.
    public func send(contentsOf messages: [RLPxMessage]) async throws(RLPxError) {
        for m in messages { try check(m) }
        do {
            try await outbound.write(contentsOf: messages)
        } catch {
            throw RLPxError(.connectionClosed, "send failed: \(NetworkErrorText.describe(error))")
        }
        await pace()
    }

    /// Keeps a sender at most one call ahead of the event loop that seals its frames.
    ///
    /// The async writer stops a producer only once the channel reports itself unwritable, and the
    /// channel can only do that on the event loop's turn. A producer faster than the sealing
    /// (Keccak over every byte) would meanwhile queue any number of messages, and the loop would
    /// then seal them all without going back to the socket: memory grows and the peer sits idle.
    /// So each send returns only once the loop has taken up the send before it.
    func pace() async {
        let marker = channel.eventLoop.submit {}
        let previous = previousSend.withLockedValue { p in
            defer { p = marker }
            return p
        }
        _ = try? await previous?.get()
    }

    /// Refuses a message the session would not frame (``P2PSession/capability(for:in:)``).
    func check(_ message: RLPxMessage) throws(RLPxError) {
        _ = try P2PSession.capability(for: message, in: capabilities)
    }

    /// Sends Disconnect with `reason` and closes the connection; returns once it is closed.
    public func disconnect(reason: DisconnectReason = .requested) async {
        channel.triggerUserOutboundEvent(RLPxDisconnectRequest(reason: reason), promise: nil)
        _ = await waitUntilClosed()
    }

    /// Waits until the connection is gone and returns why (for example ``RLPxError/Code/disconnectedByPeer``
    /// with the peer's ``RLPxError/remoteReason``).
    public func waitUntilClosed() async -> RLPxError {
        let reason = (try? await closed.get()) ?? RLPxError(.connectionClosed)
        // The channel is closed; the async channel's scope may still have its last step to run on the loop.
        await bridge.value
        return reason
    }

    /// True once the connection is closed.
    public var isClosed: Bool { !channel.isActive }

    public var description: String {
        "RLPxPeer(\(remotePublicKey.bytes.hex.prefix(16))… \(remoteHello.clientID) at \(remoteAddress.map { "\($0)" } ?? "?"))"
    }

    /// The inbound message sequence of one peer (a single consumer may iterate it).
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = RLPxMessage
        public typealias Failure = Never
        let base: NIOAsyncChannelInboundStream<RLPxMessage>

        /// An iterator; it returns nil once the connection is closed.
        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: NIOAsyncChannelInboundStream<RLPxMessage>.AsyncIterator
            /// The next message, or nil when the connection closed.
            public mutating func next() async -> RLPxMessage? {
                do { return try await base.next() } catch { return nil }
            }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }
    }
}
