/// A canonical RLP encoder that appends to one growing byte buffer.
///
/// Lists are written with ``list(_:)``: the payload is encoded in place, then the
/// header is inserted in front of it, so nested lists need no temporary buffers.
public struct RLPWriter: Sendable {
    /// The encoding written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer.
    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends a string item.
    public mutating func append<C: Collection>(bytes value: C) where C.Element == UInt8 {
        let n = value.count
        if n == 1, let b = value.first, b < 0x80 {
            bytes.append(b)
            return
        }
        appendHeader(base: 0x80, length: n)
        bytes.append(contentsOf: value)
    }

    /// Appends an unsigned integer in its minimal big-endian form (0 is 0x80).
    public mutating func append(uint value: UInt64) {
        if value == 0 {
            bytes.append(0x80)
            return
        }
        if value < 0x80 {
            bytes.append(UInt8(value))
            return
        }
        let n = (64 - value.leadingZeroBitCount + 7) / 8
        bytes.append(0x80 + UInt8(n))
        for i in stride(from: n - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> (UInt64(i) * 8)))
        }
    }

    /// Appends a Go-style boolean (true 0x01, false 0x80).
    public mutating func append(bool value: Bool) {
        bytes.append(value ? 0x01 : 0x80)
    }

    /// Appends bytes that already are a complete RLP item (not checked).
    public mutating func append<C: Collection>(raw value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
    }

    /// Appends a list whose items `body` writes.
    public mutating func list(_ body: (inout RLPWriter) throws -> Void) rethrows {
        let start = bytes.count
        try body(&self)
        let length = bytes.count - start
        if length <= 55 {
            bytes.insert(0xC0 + UInt8(length), at: start)
        } else {
            let n = RLPWriter.byteCount(of: length)
            var header: [UInt8] = [0xF7 + UInt8(n)]
            for i in stride(from: n - 1, through: 0, by: -1) {
                header.append(UInt8(truncatingIfNeeded: length >> (i * 8)))
            }
            bytes.insert(contentsOf: header, at: start)
        }
    }

    mutating func appendHeader(base: UInt8, length: Int) {
        if length <= 55 {
            bytes.append(base + UInt8(length))
        } else {
            let n = RLPWriter.byteCount(of: length)
            bytes.append(base + 55 + UInt8(n))
            for i in stride(from: n - 1, through: 0, by: -1) {
                bytes.append(UInt8(truncatingIfNeeded: length >> (i * 8)))
            }
        }
    }

    static func byteCount(of length: Int) -> Int {
        (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
    }

    /// The header bytes for a string of `length` bytes (for callers that stream the content).
    public static func stringHeader(length: Int) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 9)
        w.appendHeader(base: 0x80, length: length)
        return w.bytes
    }

    /// The header bytes for a list whose payload is `length` bytes.
    public static func listHeader(length: Int) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: 9)
        w.appendHeader(base: 0xC0, length: length)
        return w.bytes
    }
}
