import DevP2P
import EthCrypto

/// Snappy decompression with its size limits (`Snappy.decompress`).
public enum SnappyFuzz {
    /// One input: the first byte picks the limit, the rest is the compressed block.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let limit = 1 << (Int(input.byte()) % 25)
        let block = input.rest()
        guard let out = try? Snappy.decompress(block, maxLength: limit) else { return }
        precondition(out.count <= limit, "snappy returned \(out.count) bytes over the limit of \(limit)")
        let again = try? Snappy.decompress(Snappy.compress(out), maxLength: limit)
        precondition(again == out, "snappy does not round-trip what it decompressed")
    }
}

/// Hello decoding (`Hello.decode`) and Disconnect decoding, through the session as a peer's first frame.
public enum HelloFuzz {
    /// One input: the whole input is a Hello payload; it is also tried as a Disconnect before the Hello.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let payload = [UInt8](data)
        if let hello = try? Hello.decode(payload) {
            // The encoder sorts the capabilities; everything else must come back as it was.
            var sorted = hello
            sorted.capabilities.sort { ($0.name, $0.version) < ($1.name, $1.version) }
            var again = try? Hello.decode(hello.encode())
            again?.capabilities.sort { ($0.name, $0.version) < ($1.name, $1.version) }
            precondition(again == sorted, "a Hello does not survive re-encoding")
        }
        var session = P2PFuzz.newSession()
        _ = try? session.receive([0x80] + payload)
        var disconnecting = P2PFuzz.newSession()
        _ = try? disconnecting.receive([0x01] + payload)
    }
}

/// The p2p session's message dispatch (`P2PSession.receive`): Hello, Disconnect, Ping, and sub-protocol messages
/// routed by capability offsets, snappy-decompressed after a version-5 Hello.
///
/// Input: a control byte, then frames `id(1) length(2) payload`. Control bit 0 starts with node A's valid Hello
/// (p2p version 5, shh/6 and waku/1), so the fuzzer explores the established session; with bit 1 the harness
/// snappy-compresses each payload as a version-5 peer does, otherwise the payload goes in as it is.
public enum P2PFuzz {
    static let configuration = P2PSession.Configuration(
        clientID: "whisper-archive-fuzz",
        capabilities: [
            SupportedCapability(name: "shh", version: 6, messageCount: 128, maxMessageSize: 1 << 20),
            SupportedCapability(name: "waku", version: 1, messageCount: 128, maxMessageSize: 1 << 20),
        ]
    )

    static func newSession() -> P2PSession {
        P2PSession(configuration: configuration, localPublicKey: Vectors.staticB.publicKey, remotePublicKey: Vectors.staticA.publicKey)
    }

    static let remoteHello = Hello(
        protocolVersion: 5,
        clientID: "node-a",
        capabilities: [Capability(name: "shh", version: 6), Capability(name: "waku", version: 1)],
        listenPort: 30303,
        nodeID: Vectors.staticA.publicKey.bytes
    )

    /// One input, frame by frame.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        var session = newSession()
        if control & 1 == 1 {
            guard case .established = try? session.receive([0x80] + remoteHello.encode()) else {
                preconditionFailure("node A's Hello is not accepted")
            }
        }
        while !input.isEmpty {
            let id = input.byte()
            let payload = input.take(input.uint16())
            let idBytes: [UInt8] = id == 0 ? [0x80] : id < 0x80 ? [id] : [0x81, id]
            let body = control & 2 == 2 && session.snappy ? Snappy.compress(payload) : payload
            let event: P2PSession.Event
            do { event = try session.receive(idBytes + body) } catch { return }
            if case .message(let message) = event {
                precondition(message.payload.count <= 1 << 20, "a message over the capability's limit was delivered")
            }
            if case .disconnected = event { return }
            _ = session.maxFrameSize
        }
    }
}
