import RLP

/// waku/1 status options (code 0 and 22): an RLP list of `[key, value]` pairs (whisper §7).
public struct WakuStatus: Sendable, Equatable {
    /// Key 0: minimum PoW (float64 bits).
    public var pow: Double?
    /// Key 1: bloom filter (0 or 64 bytes).
    public var bloom: Bloom?
    /// Key 2: light node.
    public var lightNode: Bool?
    /// Key 3: confirmations enabled.
    public var confirmationsEnabled: Bool?
    /// Key 4: packet rate limits.
    public var packetRateLimits: RateLimits?
    /// Key 5: topic interest (takes precedence over the bloom).
    public var topicInterest: [Topic]?
    /// Key 6: bytes rate limits.
    public var bytesRateLimits: RateLimits?

    /// Default PoW when a peer omits key 0.
    public static let defaultPoW = 0.001
    /// Most topics accepted in a topic-interest option.
    public static let maxTopicInterest = 10000

    public init(
        pow: Double? = nil,
        bloom: Bloom? = nil,
        lightNode: Bool? = nil,
        confirmationsEnabled: Bool? = nil,
        packetRateLimits: RateLimits? = nil,
        topicInterest: [Topic]? = nil,
        bytesRateLimits: RateLimits? = nil
    ) {
        self.pow = pow
        self.bloom = bloom
        self.lightNode = lightNode
        self.confirmationsEnabled = confirmationsEnabled
        self.packetRateLimits = packetRateLimits
        self.topicInterest = topicInterest
        self.bytesRateLimits = bytesRateLimits
    }

    /// The payload: present options in key order.
    public var encoded: [UInt8] {
        var w = RLPWriter(reservingCapacity: 128)
        func limits(_ w: inout RLPWriter, _ r: RateLimits) {
            w.list { w in
                w.append(uint: r.ip)
                w.append(uint: r.peerID)
                w.append(uint: r.topic)
            }
        }
        w.list { w in
            if let pow {
                w.list { w in
                    w.append(uint: 0)
                    w.append(uint: pow.bitPattern)
                }
            }
            if let bloom {
                w.list { w in
                    w.append(uint: 1)
                    w.append(bytes: bloom.bytes)
                }
            }
            if let lightNode {
                w.list { w in
                    w.append(uint: 2)
                    w.append(bool: lightNode)
                }
            }
            if let confirmationsEnabled {
                w.list { w in
                    w.append(uint: 3)
                    w.append(bool: confirmationsEnabled)
                }
            }
            if let packetRateLimits {
                w.list { w in
                    w.append(uint: 4)
                    limits(&w, packetRateLimits)
                }
            }
            if let topicInterest {
                w.list { w in
                    w.append(uint: 5)
                    w.list { w in for t in topicInterest { w.append(bytes: t.bytes) } }
                }
            }
            if let bytesRateLimits {
                w.list { w in
                    w.append(uint: 6)
                    limits(&w, bytesRateLimits)
                }
            }
        }
        return w.bytes
    }

    /// Decodes options; unknown keys are skipped (each pair is read as a whole list, so later options survive).
    public init(payload: [UInt8]) throws(WhisperError) {
        self.init()
        do {
            var top = RLPReader(payload)
            var r = try top.readList()
            while !r.isAtEnd {
                var pair = try r.readList()
                let key = try pair.readUInt64()
                switch key {
                case 0: pow = try decodePoW(try pair.readUInt64())
                case 1: bloom = try Bloom.fromWire(try pair.readBytes())
                case 2: lightNode = try pair.readBool()
                case 3: confirmationsEnabled = try pair.readBool()
                case 4, 6:
                    var l = try pair.readList()
                    let limits = RateLimits(ip: try l.readUInt64(), peerID: try l.readUInt64(), topic: try l.readUInt64())
                    if key == 4 { packetRateLimits = limits } else { bytesRateLimits = limits }
                case 5:
                    var l = try pair.readList()
                    var topics: [Topic] = []
                    while !l.isAtEnd {
                        guard topics.count < WakuStatus.maxTopicInterest else {
                            throw WhisperError(.invalidPacket, "topic interest over \(WakuStatus.maxTopicInterest) topics")
                        }
                        topics.append(Topic(bytes: try l.readBytes(count: 4)))
                    }
                    topicInterest = topics
                default:
                    continue
                }
            }
        } catch let error as RLPError {
            throw WhisperError(.invalidPacket, "waku status: \(error)", offset: error.offset)
        } catch let error as WhisperError {
            throw error
        } catch {
            throw WhisperError(.invalidPacket, "waku status: \(error)")
        }
    }
}
