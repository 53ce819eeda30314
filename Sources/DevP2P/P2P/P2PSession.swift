import EthCrypto
import RLP

/// The p2p base protocol over decrypted frames, as a pure state machine (rlpx-rlp.md §6–8).
///
/// It builds our Hello, checks the peer's, negotiates capabilities and snappy, answers Ping,
/// maps message ids to (capability, code) and back, and applies the size limits.
public struct P2PSession: Sendable {
    /// What the session is told about this side.
    public struct Configuration: Sendable {
        /// Our client id for Hello.
        public var clientID: String
        /// Our p2p version: 5 (snappy) or 4 (none).
        public var protocolVersion: UInt64
        /// The capabilities we speak.
        public var capabilities: [SupportedCapability]
        /// The legacy listen port announced in Hello (0 as geth).
        public var listenPort: UInt64

        /// A configuration.
        public init(clientID: String, protocolVersion: UInt64 = 5, capabilities: [SupportedCapability], listenPort: UInt64 = 0) {
            self.clientID = clientID
            self.protocolVersion = protocolVersion
            self.capabilities = capabilities
            self.listenPort = listenPort
        }
    }

    /// A frame to send: msg-id and the payload, compressed by the encoder when `compress`.
    public struct OutboundFrame: Sendable, Equatable {
        /// The wire message id.
        public var msgID: UInt64
        /// The uncompressed payload.
        public var payload: [UInt8]
        /// Whether the payload is snappy-compressed on the wire.
        public var compress: Bool
    }

    /// What a received frame means.
    public enum Event: Sendable, Equatable {
        /// Nothing to do (Pong, reserved codes).
        case none
        /// Send this frame (Pong for Ping).
        case reply(OutboundFrame)
        /// The peer's Hello was accepted: the session is up.
        case established(Hello, [NegotiatedCapability])
        /// A sub-protocol message.
        case message(RLPxMessage)
        /// The peer sent Disconnect.
        case disconnected(DisconnectReason)
    }

    enum State: Sendable { case awaitingHello, active }

    /// p2p message codes.
    enum Code {
        static let hello: UInt64 = 0
        static let disconnect: UInt64 = 1
        static let ping: UInt64 = 2
        static let pong: UInt64 = 3
    }

    let configuration: Configuration
    let localPublicKey: PublicKey
    let remotePublicKey: PublicKey
    var state: State = .awaitingHello
    /// The negotiated capabilities (empty until established).
    public private(set) var negotiated: [NegotiatedCapability] = []
    /// The peer's Hello (nil until established).
    public private(set) var remoteHello: Hello?
    /// True once both sides announced p2p version ≥ 5.
    public private(set) var snappy = false

    /// A session between our key and the peer identity learned in the handshake.
    public init(configuration: Configuration, localPublicKey: PublicKey, remotePublicKey: PublicKey) {
        self.configuration = configuration
        self.localPublicKey = localPublicKey
        self.remotePublicKey = remotePublicKey
    }

    /// Our Hello payload.
    public var localHello: Hello {
        Hello(
            protocolVersion: configuration.protocolVersion,
            clientID: configuration.clientID,
            capabilities: configuration.capabilities.map(\.capability),
            listenPort: configuration.listenPort,
            nodeID: localPublicKey.bytes
        )
    }

    /// Our Hello frame (never compressed); send it first.
    public func helloFrame() -> OutboundFrame {
        OutboundFrame(msgID: Code.hello, payload: localHello.encode(), compress: false)
    }

    /// True once Hello has been exchanged.
    public var isEstablished: Bool { state == .active }

    /// The largest frame-size to accept now: Hello-sized before the Hello, then the capability limits.
    public var maxFrameSize: Int {
        var largest = Hello.maxSize
        if state == .active {
            for c in negotiated { largest = max(largest, c.maxMessageSize) }
            if snappy { largest = Snappy.maxCompressedLength(largest) }
        }
        return min(largest + 9, FrameEncoder.maxFrameSize)
    }

    /// Interprets one frame's data (msg-id ‖ msg-data).
    public mutating func receive(_ frameData: [UInt8]) throws(RLPxError) -> Event {
        var reader = RLPReader(frameData)
        let id: UInt64
        do {
            id = try reader.readUInt64()
        } catch {
            throw RLPxError(.invalidMessage, "message id: \(error)")
        }
        let bodyStart = reader.position
        switch state {
        case .awaitingHello:
            switch id {
            case Code.hello:
                let payload = Array(frameData[bodyStart...])
                guard payload.count <= Hello.maxSize else { throw RLPxError(.messageTooLarge, "Hello of \(payload.count) bytes") }
                return try accept(Hello.decode(payload))
            case Code.disconnect:
                return .disconnected(Self.decodeDisconnect(Array(frameData[bodyStart...])))
            default:
                throw RLPxError(.invalidMessage, "expected Hello, got message 0x\(String(id, radix: 16))")
            }
        case .active:
            if id < NegotiatedCapability.baseOffset {
                let payload = try body(frameData, from: bodyStart, limit: Hello.maxSize)
                switch id {
                case Code.disconnect: return .disconnected(Self.decodeDisconnect(payload))
                case Code.ping: return .reply(OutboundFrame(msgID: Code.pong, payload: [0xC0], compress: snappy))
                default: return .none
                }
            }
            guard let cap = negotiated.last(where: { $0.offset <= id }), id - cap.offset < UInt64(cap.messageCount) else {
                throw RLPxError(.unknownMessage, "message id 0x\(String(id, radix: 16)) is outside every capability")
            }
            let payload = try body(frameData, from: bodyStart, limit: cap.maxMessageSize)
            return .message(RLPxMessage(capability: cap.name, code: id - cap.offset, payload: payload))
        }
    }

    /// The payload after the msg-id, decompressed if snappy is on; the limit is checked before allocating.
    func body(_ frameData: [UInt8], from start: Int, limit: Int) throws(RLPxError) -> [UInt8] {
        if snappy {
            let result = frameData.withUnsafeBytes { all in
                Result { () throws(RLPxError) -> [UInt8] in
                    try Snappy.decompress(UnsafeRawBufferPointer(rebasing: all[start...]), maxLength: limit)
                }
            }
            return try result.get()
        }
        let count = frameData.count - start
        guard count <= limit else { throw RLPxError(.messageTooLarge, "payload of \(count) bytes, limit \(limit)") }
        return Array(frameData[start...])
    }

    mutating func accept(_ hello: Hello) throws(RLPxError) -> Event {
        guard hello.nodeID.count == 64, hello.nodeID.contains(where: { $0 != 0 }) else {
            throw RLPxError(.invalidIdentity, "Hello node id of \(hello.nodeID.count) bytes")
        }
        guard hello.nodeID == remotePublicKey.bytes else {
            throw RLPxError(.unexpectedIdentity, "Hello node id \(hello.nodeID.hex.prefix(16))… is not the handshake key")
        }
        guard remotePublicKey != localPublicKey else { throw RLPxError(.connectedToSelf) }
        let shared = NegotiatedCapability.negotiate(local: configuration.capabilities, remote: hello.capabilities)
        if shared.isEmpty && !configuration.capabilities.isEmpty {
            throw RLPxError(.uselessPeer, "peer offers \(hello.capabilities.map(\.description).joined(separator: ", "))")
        }
        negotiated = shared
        remoteHello = hello
        snappy = hello.protocolVersion >= 5 && configuration.protocolVersion >= 5
        state = .active
        return .established(hello, shared)
    }

    /// The frame carrying `message`; checks its capability, code and size.
    public func frame(for message: RLPxMessage) throws(RLPxError) -> OutboundFrame {
        guard state == .active else { throw RLPxError(.unknownMessage, "session not established") }
        let cap = try Self.capability(for: message, in: negotiated)
        return OutboundFrame(msgID: cap.offset + message.code, payload: message.payload, compress: snappy)
    }

    /// The capability among `negotiated` that carries `message`: its capability must be negotiated, its code
    /// inside the capability's codes, its payload within the capability's size limit.
    ///
    /// The one check of an outbound message; ``RLPxPeer`` applies it before queueing, so that a caller learns
    /// of a bad message from its `send`.
    public static func capability(
        for message: RLPxMessage,
        in negotiated: [NegotiatedCapability]
    ) throws(RLPxError)
        -> NegotiatedCapability
    {
        guard let cap = negotiated.first(where: { $0.name == message.capability }) else {
            throw RLPxError(.unknownMessage, "capability \(message.capability) was not negotiated")
        }
        guard message.code < UInt64(cap.messageCount) else {
            throw RLPxError(.unknownMessage, "code \(message.code) is outside \(cap.capability)'s \(cap.messageCount) codes")
        }
        guard message.payload.count <= cap.maxMessageSize else {
            throw RLPxError(.messageTooLarge, "payload of \(message.payload.count) bytes, limit \(cap.maxMessageSize)")
        }
        return cap
    }

    /// A Disconnect frame (`[reason]`), compressed once snappy is on.
    public func disconnectFrame(_ reason: DisconnectReason) -> OutboundFrame {
        var w = RLPWriter(reservingCapacity: 4)
        w.list { $0.append(uint: UInt64(reason.rawValue)) }
        return OutboundFrame(msgID: Code.disconnect, payload: w.bytes, compress: snappy)
    }

    /// A Ping frame.
    public func pingFrame() -> OutboundFrame {
        OutboundFrame(msgID: Code.ping, payload: [0xC0], compress: snappy)
    }

    /// Decodes `[reason]` or a bare reason; anything else reads as 0xff (undecodable, as geth's DiscInvalid).
    static func decodeDisconnect(_ payload: [UInt8]) -> DisconnectReason {
        guard payload.count <= 100 else { return DisconnectReason(rawValue: 0xFF) }
        var r = RLPReader(payload)
        if let h = try? r.peekHeader(), h.isList, var inner = try? r.readList(),
            let v = try? inner.readUInt64(), v <= 0xFF
        {
            return DisconnectReason(rawValue: UInt8(v))
        }
        var bare = RLPReader(payload)
        if let v = try? bare.readUInt64(), v <= 0xFF { return DisconnectReason(rawValue: UInt8(v)) }
        return DisconnectReason(rawValue: 0xFF)
    }
}
