import RLP

/// The p2p Hello message (rlpx-rlp.md §6.1).
public struct Hello: Sendable, Equatable {
    /// The p2p version: 5 (snappy) or 4.
    public var protocolVersion: UInt64
    /// A human-readable client name, such as `whisper-archive/0.1.0`.
    public var clientID: String
    /// The announced capabilities.
    public var capabilities: [Capability]
    /// Legacy listen port (0 from current clients; ignored).
    public var listenPort: UInt64
    /// The sender's 64-byte static public key.
    public var nodeID: [UInt8]

    /// The largest Hello payload accepted (geth's `baseProtocolMaxMsgSize`).
    public static let maxSize = 2048

    /// A Hello message.
    public init(protocolVersion: UInt64, clientID: String, capabilities: [Capability], listenPort: UInt64, nodeID: [UInt8]) {
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.capabilities = capabilities
        self.listenPort = listenPort
        self.nodeID = nodeID
    }

    /// The RLP payload; capabilities are written sorted by name, then version.
    public func encode() -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 128)
        w.list { w in
            w.append(uint: protocolVersion)
            w.append(bytes: Array(clientID.utf8))
            w.list { w in
                for c in capabilities.sorted(by: Capability.precedes) {
                    w.list { w in
                        w.append(bytes: Array(c.name.utf8))
                        w.append(uint: c.version)
                    }
                }
            }
            w.append(uint: listenPort)
            w.append(bytes: nodeID)
        }
        return w.bytes
    }

    /// Decodes a Hello leniently: extra elements (in the message and in each capability) are ignored.
    /// The node id's length is not checked here (see the session's identity checks).
    public static func decode(_ payload: [UInt8]) throws(RLPxError) -> Hello {
        do {
            var outer = RLPReader(payload)
            var list = try outer.readList()
            let version = try list.readUInt64()
            let client = String(decoding: try list.readBytes(), as: UTF8.self)
            var capsReader = try list.readList()
            var caps: [Capability] = []
            while !capsReader.isAtEnd {
                var c = try capsReader.readList()
                let name = String(decoding: try c.readBytes(), as: UTF8.self)
                caps.append(Capability(name: name, version: try c.readUInt64()))
            }
            let port = try list.readUInt64()
            let node = Array(try list.readBytes())
            return Hello(protocolVersion: version, clientID: client, capabilities: caps, listenPort: port, nodeID: node)
        } catch {
            throw RLPxError(.invalidMessage, "Hello: \(error)")
        }
    }
}
