import EthCrypto
import RLP

/// A Whisper v6 / Waku v1 envelope: RLP `[Expiry, TTL, Topic, Data, Nonce]`.
///
/// It keeps the exact RLP bytes it was decoded from (or encoded to) and their Keccak-256
/// hash, so storing and forwarding never re-encodes.
public struct Envelope: Hashable, Sendable {
    /// Bytes of fixed fields counted in the envelope "size" (`EnvelopeHeaderLength`).
    public static let headerLength = 20

    /// UNIX seconds when the envelope expires (sent time + TTL).
    public let expiry: UInt32
    /// Time to live in seconds.
    public let ttl: UInt32
    /// The topic.
    public let topic: Topic
    /// The proof-of-work nonce.
    public let nonce: UInt64
    /// The exact RLP encoding.
    public let rlp: [UInt8]
    /// Where `data` lies inside `rlp`.
    let dataRange: Range<Int>
    /// Where the nonce item starts inside `rlp` (the end of the PoW pre-image's items).
    let nonceStart: Int
    /// Where the list payload starts inside `rlp`.
    let payloadStart: Int
    /// Keccak-256 of `rlp`: the envelope's identity.
    public let hash: [UInt8]

    /// The encrypted message.
    public var data: ArraySlice<UInt8> { rlp[dataRange] }

    /// `expiry - ttl` in wrapping 32-bit arithmetic, as the implementations compute it.
    public var sentTime: UInt32 { expiry &- ttl }

    /// `20 + len(data)`: the size used for limits and by `Seal`.
    public var size: Int { Envelope.headerLength + dataRange.count }

    /// The envelope's bloom (from its topic).
    public var bloom: Bloom { topic.bloom }

    /// The 40-byte status-go database key.
    public var key: EnvelopeKey { EnvelopeKey(sentTime: sentTime, hash: hash, topic: topic) }

    /// Decodes one envelope strictly; `bytes` must hold exactly one RLP list of five items.
    public init(rlp bytes: [UInt8]) throws(WhisperError) {
        var reader = RLPReader(bytes)
        try self.init(reading: &reader)
        do { try reader.finish() } catch { throw WhisperError(.invalidEnvelope, error.description, offset: error.offset) }
    }

    /// Decodes the next envelope from `reader` (for lists of envelopes); the envelope gets its own copy of its bytes.
    public init(reading reader: inout RLPReader) throws(WhisperError) {
        do {
            let itemStart = reader.position
            var list = try reader.readList()
            let base = itemStart
            let payloadStart = list.position - base
            let expiry = try list.readUInt32()
            let ttl = try list.readUInt32()
            let topic = try list.readBytes(count: 4)
            let data = try list.readBytesRange()
            let nonceStart = list.position - base
            let nonce = try list.readUInt64()
            guard list.isAtEnd else {
                throw WhisperError(.invalidEnvelope, "more than 5 list items", offset: list.position)
            }
            let end = reader.position
            let raw = itemStart == 0 && end == reader.bytes.count ? reader.bytes : Array(reader.bytes[itemStart..<end])
            self.init(
                expiry: expiry,
                ttl: ttl,
                topic: Topic(bytes: topic),
                nonce: nonce,
                rlp: raw,
                dataRange: (data.lowerBound - base)..<(data.upperBound - base),
                nonceStart: nonceStart,
                payloadStart: payloadStart
            )
        } catch let error as RLPError {
            let detail = error.code == .unexpectedEnd ? "truncated: \(error.code.rawValue)" : error.code.rawValue
            throw WhisperError(.invalidEnvelope, detail + (error.detail.map { " (\($0))" } ?? ""), offset: error.offset)
        } catch let error as WhisperError {
            throw error
        } catch {
            throw WhisperError(.invalidEnvelope, "\(error)")
        }
    }

    /// Encodes a new envelope from its fields.
    public init<D: Collection>(expiry: UInt32, ttl: UInt32, topic: Topic, data: D, nonce: UInt64)
    where D.Element == UInt8 {
        let (items, dataRange) = Envelope.encodeItems(expiry: expiry, ttl: ttl, topic: topic, data: data)
        var tail = RLPWriter(reservingCapacity: 9)
        tail.append(uint: nonce)
        let header = RLPWriter.listHeader(length: items.count + tail.bytes.count)
        self.init(
            expiry: expiry,
            ttl: ttl,
            topic: topic,
            nonce: nonce,
            rlp: header + items + tail.bytes,
            dataRange: (dataRange.lowerBound + header.count)..<(dataRange.upperBound + header.count),
            nonceStart: header.count + items.count,
            payloadStart: header.count
        )
    }

    private init(
        expiry: UInt32,
        ttl: UInt32,
        topic: Topic,
        nonce: UInt64,
        rlp: [UInt8],
        dataRange: Range<Int>,
        nonceStart: Int,
        payloadStart: Int
    ) {
        self.expiry = expiry
        self.ttl = ttl
        self.topic = topic
        self.nonce = nonce
        self.rlp = rlp
        self.dataRange = dataRange
        self.nonceStart = nonceStart
        self.payloadStart = payloadStart
        self.hash = Keccak256.hash(rlp)
    }

    /// The encoded items `Expiry, TTL, Topic, Data` (no list header) and where Data's content lies in them.
    static func encodeItems<D: Collection>(
        expiry: UInt32,
        ttl: UInt32,
        topic: Topic,
        data: D
    )
        -> ([UInt8], Range<Int>) where D.Element == UInt8
    {
        var w = RLPWriter(reservingCapacity: data.count + 24)
        w.append(uint: UInt64(expiry))
        w.append(uint: UInt64(ttl))
        w.append(bytes: topic.bytes)
        w.append(bytes: data)
        let contentStart = w.bytes.count - data.count
        return (w.bytes, contentStart..<w.bytes.count)
    }

    public static func == (a: Envelope, b: Envelope) -> Bool { a.hash == b.hash && a.rlp == b.rlp }
    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
