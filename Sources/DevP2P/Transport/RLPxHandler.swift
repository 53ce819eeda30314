import EthCrypto
import Logging
import NIOCore

/// The channel handler of one RLPx connection: a thin adapter around ``HandshakeStateMachine``,
/// ``FrameEncoder``/``FrameDecoder`` and ``P2PSession``.
///
/// Inbound it reads bytes and emits ``RLPxMessage``s; outbound it takes ``RLPxMessage``s and
/// writes frames. Any failure ends only this connection, with a Disconnect when one is owed.
public final class RLPxHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = RLPxMessage
    public typealias OutboundIn = RLPxMessage
    public typealias OutboundOut = ByteBuffer

    /// Decides whether an established peer may stay (the server's peer limit); nil admits it.
    typealias Admission = @Sendable (RLPxPeerInfo, Channel) -> RLPxError?

    let configuration: RLPxConfiguration
    var state: State
    var inbound: ByteBuffer?
    var lastRead = NIODeadline.now()
    var handshakeTimer: Scheduled<Void>?
    var pingTimer: Scheduled<Void>?
    /// The inbound byte budget (a token bucket), when the configuration sets one.
    var budget: TokenBucket?
    /// A `read` withheld because the budget is spent, and the timer that releases it.
    var readHeld = false
    var resumeTimer: Scheduled<Void>?
    let admission: Admission?
    /// Whether to add a `NIOAsyncChannel` bridge behind this handler once established.
    var installsBridge = false
    let established: EventLoopPromise<RLPxPeerInfo>
    let closed: EventLoopPromise<RLPxError>
    var logger: Logger

    /// A handler for the dialling side (knows the remote key) or the accepting side (`remote` nil).
    init(configuration: RLPxConfiguration, remote: PublicKey?, eventLoop: EventLoop, admission: Admission? = nil) {
        self.configuration = configuration
        if let remote {
            state = .handshaking(
                HandshakeStateMachine(
                    initiator: configuration.nodeKey,
                    remote: remote,
                    format: configuration.handshakeFormat,
                    maxPacketSize: configuration.maxHandshakeSize
                )
            )
        } else {
            state = .handshaking(
                HandshakeStateMachine(
                    recipient: configuration.nodeKey,
                    acceptLegacy: configuration.acceptLegacyHandshake,
                    maxPacketSize: configuration.maxHandshakeSize
                )
            )
        }
        self.admission = admission
        if let rate = configuration.inboundBytesPerSecond {
            budget = TokenBucket(ratePerSecond: rate, burst: configuration.inboundBurstBytes, now: eventLoop.now)
        }
        established = eventLoop.makePromise()
        closed = eventLoop.makePromise()
        logger = configuration.logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func start(context: ChannelHandlerContext) {
        guard handshakeTimer == nil else { return }
        lastRead = context.eventLoop.now
        if let remote = context.remoteAddress { logger[metadataKey: "peer"] = "\(remote)" }
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.handshakeTimeout) {
            self.fail(context: context, RLPxError(.handshakeTimeout))
        }
        if case .handshaking(var hs) = state, hs.isInitiator {
            do {
                let auth = try hs.makeAuth()
                state = .handshaking(hs)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: auth)), promise: nil)
            } catch {
                fail(context: context, error)
            }
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !state.isClosing else { return }
        var bytes = unwrapInboundIn(data)
        budget?.charge(bytes.readableBytes, now: context.eventLoop.now)
        if inbound == nil || inbound!.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound!.writeBuffer(&bytes)
        }
        lastRead = context.eventLoop.now
        do {
            try process(context: context)
        } catch {
            fail(context: context, error)
        }
        if var buffer = inbound, buffer.readerIndex > 1 << 20 {
            buffer.discardReadBytes()
            inbound = buffer
        }
    }

    func process(context: ChannelHandlerContext) throws(RLPxError) {
        guard var buffer = inbound else { return }
        inbound = nil
        defer { inbound = buffer }
        if case .handshaking(var hs) = state {
            guard let done = try hs.receive(&buffer) else {
                state = .handshaking(hs)
                return
            }
            if let reply = done.reply { context.write(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil) }
            let s = P2PSession(
                configuration: configuration.sessionConfiguration,
                localPublicKey: configuration.nodeKey.publicKey,
                remotePublicKey: done.remotePublicKey
            )
            state = .awaitingHello(
                Link(
                    encoder: FrameEncoder(secrets: done.secrets),
                    decoder: FrameDecoder(secrets: done.secrets, maxFrameSize: s.maxFrameSize),
                    session: s,
                    format: done.format
                )
            )
            try send(context: context, s.helloFrame())
            flush(context: context)
        }
        var wrote = false
        defer { if wrote { flush(context: context) } }
        while !state.isClosing, var link = state.link {
            let next = try link.decoder.next(&buffer)
            guard let frameData = next else {
                state.update(link)
                return
            }
            let event = try link.session.receive(frameData)
            // Stored before anything is sent: a send advances the encoder held in `state`.
            state.update(link)
            switch event {
            case .none:
                break
            case .reply(let frame):
                try send(context: context, frame)
                wrote = true
            case .established(let hello, let caps):
                let s = link.session
                link.decoder.maxFrameSize = s.maxFrameSize
                state.update(link)
                var info = RLPxPeerInfo(
                    remotePublicKey: s.remotePublicKey,
                    hello: hello,
                    capabilities: caps,
                    snappy: s.snappy,
                    format: link.format
                )
                if let refusal = admission?(info, context.channel) { throw refusal }
                if installsBridge {
                    // Installed now, so it exists only for peers that are handed out (and then always opened).
                    do {
                        info.bridge = try NIOAsyncChannel<RLPxMessage, RLPxMessage>(
                            wrappingChannelSynchronously: context.channel,
                            configuration: .init(
                                backPressureStrategy: .init(
                                    lowWatermark: configuration.inboundBufferLowWatermark,
                                    highWatermark: configuration.inboundBufferHighWatermark
                                )
                            )
                        )
                    } catch {
                        throw RLPxError(.connectionClosed, "cannot install the async bridge: \(error)")
                    }
                }
                handshakeTimer?.cancel()
                handshakeTimer = nil
                if case .awaitingHello(let up) = state { state = .established(up) }
                schedulePing(context: context)
                logger.debug("peer established", metadata: ["client": "\(hello.clientID)", "caps": "\(caps)"])
                established.succeed(info)
            case .message(let message):
                context.fireChannelRead(wrapInboundOut(message))
            case .disconnected(let reason):
                _ = beginClosing(RLPxError(.disconnectedByPeer, remoteReason: reason))
                context.close(promise: nil)
            }
        }
    }

    /// Moves to ``State/closing(reason:link:wasEstablished:)``; false when the connection is already ending.
    func beginClosing(_ reason: RLPxError) -> Bool {
        switch state {
        case .closing, .closed:
            return false
        case .handshaking:
            state = .closing(reason: reason, link: nil, wasEstablished: false)
        case .awaitingHello(let link):
            state = .closing(reason: reason, link: link, wasEstablished: false)
        case .established(let link):
            state = .closing(reason: reason, link: link, wasEstablished: true)
        }
        return true
    }

    func send(context: ChannelHandlerContext, _ frame: P2PSession.OutboundFrame, promise: EventLoopPromise<Void>? = nil) throws(RLPxError) {
        guard var link = state.link else { throw RLPxError(.connectionClosed, "not established") }
        let buffer = try link.encoder.encode(
            msgID: frame.msgID,
            payload: frame.payload,
            compress: frame.compress,
            allocator: context.channel.allocator
        )
        state.update(link)
        unflushedBytes += buffer.readableBytes
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func schedulePing(context: ChannelHandlerContext) {
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.pingInterval) {
            guard !self.state.isClosing, let s = self.state.link?.session else { return }
            if context.eventLoop.now - self.lastRead > self.configuration.readTimeout {
                self.fail(context: context, RLPxError(.readTimeout))
                return
            }
            do {
                try self.send(context: context, s.pingFrame())
                self.flush(context: context)
            } catch {
                self.fail(context: context, error)
                return
            }
            self.schedulePing(context: context)
        }
    }

    /// Reading from the socket waits while the peer's byte budget is spent.
    public func read(context: ChannelHandlerContext) {
        guard var b = budget else { return context.read() }
        let wait = b.wait(now: context.eventLoop.now)
        budget = b
        guard let wait else { return context.read() }
        readHeld = true
        guard resumeTimer == nil else { return }
        resumeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
            self.resumeTimer = nil
            guard self.readHeld, !self.state.isClosing else { return }
            self.readHeld = false
            self.read(context: context)
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        guard !state.isClosing, let s = state.link?.session, s.isEstablished else {
            promise?.fail(state.closeReason ?? RLPxError(.connectionClosed))
            return
        }
        do {
            try send(context: context, s.frame(for: message), promise: promise)
        } catch {
            promise?.fail(error)
            return
        }
        // A long run of writes before one flush (the async writer hands over everything queued
        // while the loop was busy) goes to the socket in slices, so the peer can work on the first
        // frames while later ones are sealed, and writability reflects what is really pending.
        if unflushedBytes >= Self.flushThreshold { flush(context: context) }
    }

    /// Unflushed frame bytes past which a write flushes by itself.
    static let flushThreshold = 256 * 1024
    var unflushedBytes = 0

    public func flush(context: ChannelHandlerContext) {
        unflushedBytes = 0
        context.flush()
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let request = event as? RLPxDisconnectRequest {
            disconnect(
                context: context,
                reason: request.reason,
                error: RLPxError(.disconnectedLocally, "\(request.reason)", localReason: request.reason)
            )
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    /// Ends the connection because of `error`, sending the Disconnect it owes if frames are up.
    func fail(context: ChannelHandlerContext, _ error: Error) {
        let e = error as? RLPxError ?? RLPxError(.connectionClosed, NetworkErrorText.describe(error))
        if let reason = e.disconnectReason {
            disconnect(context: context, reason: reason, error: e)
        } else {
            guard beginClosing(e) else { return }
            logger.debug("closing connection", metadata: ["error": "\(e)"])
            context.close(promise: nil)
        }
    }

    func disconnect(context: ChannelHandlerContext, reason: DisconnectReason, error: RLPxError) {
        guard beginClosing(error) else { return }
        logger.debug("disconnecting", metadata: ["reason": "\(reason)", "error": "\(error)"])
        let channel = context.channel
        guard let s = state.link?.session else {
            context.close(promise: nil)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        do {
            try send(context: context, s.disconnectFrame(reason), promise: promise)
            flush(context: context)
        } catch {
            promise.fail(error)
        }
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    /// Completes both promises once.
    func finish() {
        handshakeTimer?.cancel()
        pingTimer?.cancel()
        resumeTimer?.cancel()
        let reason: RLPxError
        let wasEstablished: Bool
        switch state {
        case .closed:
            return
        case .closing(let why, _, let established):
            reason = why
            wasEstablished = established
        case .handshaking, .awaitingHello:
            reason = RLPxError(.connectionClosed)
            wasEstablished = false
        case .established:
            reason = RLPxError(.connectionClosed)
            wasEstablished = true
        }
        state = .closed(reason: reason)
        if !wasEstablished { established.fail(reason) }
        closed.succeed(reason)
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context: context, RLPxError(.connectionClosed, NetworkErrorText.describe(error)))
    }
}

@available(*, unavailable)
extension RLPxHandler: Sendable {}
