import RLP

/// The shh/6 status packet (code 0): `[Version, PoW, Bloom, IsLightNode, Confirmations?, RateLimits?]` (whisper §4.3).
public struct WhisperStatus: Sendable, Equatable {
    /// The only protocol version accepted.
    public static let version: UInt64 = 6

    /// Minimum PoW the sender requires.
    public var pow: Double
    /// The sender's bloom (full when absent or empty on the wire).
    public var bloom: Bloom
    /// Whether the sender is a light node.
    public var lightNode: Bool
    /// status-im/status-go: whether the sender wants batch acknowledgements (item 5).
    public var confirmationsEnabled: Bool?
    /// status-go 2020+: the sender's rate limits (item 6).
    public var rateLimits: RateLimits?

    public init(
        pow: Double,
        bloom: Bloom = .full,
        lightNode: Bool = false,
        confirmationsEnabled: Bool? = nil,
        rateLimits: RateLimits? = nil
    ) {
        self.pow = pow
        self.bloom = bloom
        self.lightNode = lightNode
        self.confirmationsEnabled = confirmationsEnabled
        self.rateLimits = rateLimits
    }

    /// The packet payload; optional items are positional, so rate limits imply confirmations.
    public var encoded: [UInt8] {
        var w = RLPWriter(reservingCapacity: 96)
        w.list { w in
            w.append(uint: WhisperStatus.version)
            w.append(uint: pow.bitPattern)
            w.append(bytes: bloom.bytes)
            w.append(bool: lightNode)
            if confirmationsEnabled != nil || rateLimits != nil {
                w.append(bool: confirmationsEnabled ?? false)
            }
            if let r = rateLimits {
                w.list { w in
                    w.append(uint: r.ip)
                    w.append(uint: r.peerID)
                    w.append(uint: r.topic)
                }
            }
        }
        return w.bytes
    }

    /// Decodes a status payload with the receiver rules of go-ethereum and status-go.
    public init(payload: [UInt8]) throws(WhisperError) {
        do {
            var top = RLPReader(payload)
            var r = try top.readList()
            let version = try r.readUInt64()
            guard version == WhisperStatus.version else {
                throw WhisperError(.invalidPacket, "status version \(version), expected 6")
            }
            var status = WhisperStatus(pow: 0)
            if !r.isAtEnd { status.pow = try decodePoW(try r.readUInt64()) }
            if !r.isAtEnd { status.bloom = try Bloom.fromWire(try r.readBytes()) }
            if !r.isAtEnd { status.lightNode = try r.readBool() }
            if !r.isAtEnd { status.confirmationsEnabled = try? r.readBool() }
            if !r.isAtEnd, let limits = try? r.readList() {
                var l = limits
                status.rateLimits = try? RateLimits(ip: l.readUInt64(), peerID: l.readUInt64(), topic: l.readUInt64())
            }
            self = status
        } catch let error as RLPError {
            throw WhisperError(.invalidPacket, "status: \(error)", offset: error.offset)
        } catch let error as WhisperError {
            throw error
        } catch {
            throw WhisperError(.invalidPacket, "status: \(error)")
        }
    }
}

/// A PoW requirement from its float64 bit pattern; NaN, infinities and negatives are rejected.
public func decodePoW(_ bits: UInt64) throws(WhisperError) -> Double {
    let v = Double(bitPattern: bits)
    guard v.isFinite, v >= 0 else { throw WhisperError(.invalidPacket, "PoW requirement \(v) is not a finite non-negative number") }
    return v
}
