import RLP
import Whisper

/// The `wasync/1` messages (docs/SYNC.md), encoded and decoded with their limits: a decoder never builds more than
/// the limits allow, whatever a peer claims.
public enum ReconciliationWire {
    /// The capability's name and version, and its message codes.
    public static let capability = "wasync"
    public static let version: UInt64 = 1
    public static let messageCount = 8
    public enum Code {
        /// Initiator → responder: `[id, lower, upper, [summary…]]`.
        public static let reconcile: UInt64 = 0
        /// Responder → initiator: `[id, [item…]]`.
        public static let answer: UInt64 = 1
        /// Either way: `[id, [key…]]`, the envelopes wanted.
        public static let want: UInt64 = 2
        /// Either way: `[id, [envelope…]]`, the envelopes wanted or pushed.
        public static let envelopes: UInt64 = 3
    }

    /// A round of the initiator.
    public struct Reconcile: Sendable, Equatable {
        public var id: UInt64
        public var lower: UInt32
        public var upper: UInt32
        public var ranges: [RangeReconciliation.Summary]

        public init(id: UInt64, lower: UInt32, upper: UInt32, ranges: [RangeReconciliation.Summary]) {
            self.id = id
            self.lower = lower
            self.upper = upper
            self.ranges = ranges
        }
    }

    /// A bound on the wire: its bytes without trailing zeros (at least one byte); empty for an open end.
    static func bound(_ c: Cursor?) -> [UInt8] {
        guard let c else { return [] }
        var n = Cursor.length
        while n > 1 && c.bytes[n - 1] == 0 { n -= 1 }
        return Array(c.bytes[..<n])
    }

    static func write(_ s: RangeReconciliation.Summary, _ w: inout RLPWriter) {
        w.list { w in
            w.append(bytes: bound(s.start))
            w.append(bytes: bound(s.end))
            w.append(uint: UInt64(s.count))
            w.append(bytes: s.fingerprint)
        }
    }

    static func readBound(_ r: inout RLPReader) throws -> Cursor? {
        let b = try r.readBytes()
        guard !b.isEmpty else { return nil }
        guard b.count <= Cursor.length else { throw WhisperError(.invalidPacket, "a range bound of \(b.count) bytes") }
        return Cursor(trusted: Array(b) + [UInt8](repeating: 0, count: Cursor.length - b.count))
    }

    static func readSummary(_ r: inout RLPReader) throws -> RangeReconciliation.Summary {
        var l = try r.readList()
        let start = try readBound(&l)
        let end = try readBound(&l)
        let count = try l.readUInt64()
        guard count <= UInt64(Int32.max) else { throw WhisperError(.invalidPacket, "a range count of \(count)") }
        let fp = Array(try l.readBytes(count: RangeReconciliation.fingerprintLength))
        try l.finish()
        return .init(start: start, end: end, count: Int(count), fingerprint: fp)
    }

    /// Reads a list of at most `limit` items with `item`.
    static func readList<T>(_ r: inout RLPReader, limit: Int, _ what: String, _ item: (inout RLPReader) throws -> T) throws -> [T] {
        var l = try r.readList()
        var out: [T] = []
        while !l.isAtEnd {
            guard out.count < limit else { throw WhisperError(.invalidPacket, "more than \(limit) \(what)") }
            out.append(try item(&l))
        }
        return out
    }

    public static func encode(_ m: Reconcile) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 32 + m.ranges.count * 120)
        w.list { w in
            w.append(uint: m.id)
            w.append(uint: UInt64(m.lower))
            w.append(uint: UInt64(m.upper))
            w.list { w in for s in m.ranges { write(s, &w) } }
        }
        return w.bytes
    }

    public static func decodeReconcile(_ payload: [UInt8], limits: RangeReconciliation.Limits = .init()) throws -> Reconcile {
        var outer = RLPReader(payload)
        var r = try outer.readList()
        try outer.finish()
        let id = try r.readUInt64()
        let lower = try r.readUInt32()
        let upper = try r.readUInt32()
        let ranges = try readList(&r, limit: limits.rangesPerRequest, "ranges", readSummary)
        try r.finish()
        return Reconcile(id: id, lower: lower, upper: upper, ranges: ranges)
    }

    public static func encode(answer items: [RangeReconciliation.Item], id: UInt64) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 64 + items.count * 64)
        w.list { w in
            w.append(uint: id)
            w.list { w in
                for item in items {
                    w.list { w in
                        switch item {
                        case .equal(let start, let end):
                            w.append(uint: 0)
                            w.append(bytes: bound(start))
                            w.append(bytes: bound(end))
                            w.list { _ in }
                        case .keys(let start, let end, let keys):
                            w.append(uint: 1)
                            w.append(bytes: bound(start))
                            w.append(bytes: bound(end))
                            w.list { w in for k in keys { w.append(bytes: k.bytes) } }
                        case .split(let parts):
                            w.append(uint: 2)
                            w.append(bytes: bound(parts.first?.start))
                            w.append(bytes: bound(parts.last?.end))
                            w.list { w in for p in parts { write(p, &w) } }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    public static func decodeAnswer(_ payload: [UInt8], limits: RangeReconciliation.Limits = .init()) throws -> (id: UInt64, items: [RangeReconciliation.Item]) {
        var outer = RLPReader(payload)
        var r = try outer.readList()
        try outer.finish()
        let id = try r.readUInt64()
        var keys = 0
        let items = try readList(&r, limit: limits.rangesPerRequest, "answers") { (r: inout RLPReader) throws -> RangeReconciliation.Item in
            var l = try r.readList()
            let kind = try l.readUInt64()
            let start = try readBound(&l)
            let end = try readBound(&l)
            let item: RangeReconciliation.Item
            switch kind {
            case 0:
                _ = try readList(&l, limit: 0, "items in an equal answer") { _ in () }
                item = .equal(start: start, end: end)
            case 1:
                let list = try readList(&l, limit: limits.keysPerAnswer - keys, "keys") { (r: inout RLPReader) throws -> Cursor in
                    try Cursor(bytes: try r.readBytes())
                }
                keys += list.count
                item = .keys(start: start, end: end, list)
            case 2:
                item = .split(try readList(&l, limit: limits.fanOut, "sub-ranges", readSummary))
            default:
                throw WhisperError(.invalidPacket, "an answer of kind \(kind)")
            }
            try l.finish()
            return item
        }
        try r.finish()
        return (id, items)
    }

    public static func encode(want keys: [Cursor], id: UInt64) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 16 + keys.count * 38)
        w.list { w in
            w.append(uint: id)
            w.list { w in for k in keys { w.append(bytes: k.bytes) } }
        }
        return w.bytes
    }

    /// Envelopes asked for in one message, at most.
    public static let keysPerWant = 1000

    public static func decodeWant(_ payload: [UInt8]) throws -> (id: UInt64, keys: [Cursor]) {
        var outer = RLPReader(payload)
        var r = try outer.readList()
        try outer.finish()
        let id = try r.readUInt64()
        let keys = try readList(&r, limit: keysPerWant, "keys wanted") { (r: inout RLPReader) throws -> Cursor in try Cursor(bytes: try r.readBytes()) }
        try r.finish()
        return (id, keys)
    }

    public static func encode(envelopes: [[UInt8]], id: UInt64) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 16 + envelopes.reduce(0) { $0 + $1.count + 4 })
        w.list { w in
            w.append(uint: id)
            w.list { w in for e in envelopes { w.append(raw: e) } }
        }
        return w.bytes
    }

    public static func decodeEnvelopes(_ payload: [UInt8]) throws -> (id: UInt64, envelopes: [[UInt8]]) {
        var outer = RLPReader(payload)
        var r = try outer.readList()
        try outer.finish()
        let id = try r.readUInt64()
        let envelopes = try readList(&r, limit: keysPerWant, "envelopes") { (r: inout RLPReader) throws -> [UInt8] in Array(try r.readRaw()) }
        try r.finish()
        return (id, envelopes)
    }
}
