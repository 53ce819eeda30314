/// A strict, zero-copy reader over a sequence of RLP items.
///
/// It reads one item at a time from `bytes[position..<end]`. Every read checks the canonical
/// form (rlpx-rlp.md §12.2) and throws an ``RLPError`` carrying the absolute byte offset.
/// A reader obtained from ``readList()`` covers exactly that list's payload.
public struct RLPReader: Sendable {
    /// The whole input; offsets in errors are indices into it.
    public let bytes: [UInt8]
    /// Index of the next item.
    public private(set) var position: Int
    /// End of this reader's region (exclusive).
    public let end: Int

    /// A reader over all of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    /// A reader over `bytes[range]`; error offsets stay relative to the whole array.
    public init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    /// True when no item is left in this reader's region.
    public var isAtEnd: Bool { position >= end }

    /// The header of one item: whether it is a list, where its payload lies.
    public struct Header: Sendable, Equatable {
        /// True for a list, false for a string.
        public var isList: Bool
        /// Offset of the item's first byte.
        public var start: Int
        /// Range of the payload (string content or list items).
        public var payload: Range<Int>
        /// Offset just past the item.
        public var itemEnd: Int { payload.upperBound }
    }

    /// Decodes the header of the next item without consuming it.
    public func peekHeader() throws(RLPError) -> Header {
        let start = position
        guard start < end else { throw RLPError(.unexpectedEnd, at: start) }
        let b = bytes[start]
        switch b {
        case 0x00...0x7F:
            return Header(isList: false, start: start, payload: start..<(start + 1))
        case 0x80...0xB7:
            let len = Int(b - 0x80)
            guard end - (start + 1) >= len else {
                throw RLPError(end == bytes.count ? .unexpectedEnd : .elementTooLarge, at: start)
            }
            if len == 1 && bytes[start + 1] < 0x80 {
                throw RLPError(.nonCanonicalSize, at: start, detail: "single byte below 0x80 must not be wrapped")
            }
            return Header(isList: false, start: start, payload: (start + 1)..<(start + 1 + len))
        case 0xB8...0xBF:
            let (payloadStart, len) = try longLength(start: start, lengthOfLength: Int(b - 0xB7))
            return Header(isList: false, start: start, payload: payloadStart..<(payloadStart + len))
        case 0xC0...0xF7:
            let len = Int(b - 0xC0)
            guard end - (start + 1) >= len else {
                throw RLPError(end == bytes.count ? .unexpectedEnd : .elementTooLarge, at: start)
            }
            return Header(isList: true, start: start, payload: (start + 1)..<(start + 1 + len))
        default:
            let (payloadStart, len) = try longLength(start: start, lengthOfLength: Int(b - 0xF7))
            return Header(isList: true, start: start, payload: payloadStart..<(payloadStart + len))
        }
    }

    func longLength(start: Int, lengthOfLength n: Int) throws(RLPError) -> (Int, Int) {
        guard end - (start + 1) >= n else { throw RLPError(.unexpectedEnd, at: start) }
        guard bytes[start + 1] != 0 else {
            throw RLPError(.nonCanonicalSize, at: start, detail: "leading zero in length")
        }
        var len: UInt64 = 0
        for i in 0..<n { len = (len << 8) | UInt64(bytes[start + 1 + i]) }
        guard len >= 56 else {
            throw RLPError(.nonCanonicalSize, at: start, detail: "long form for a length below 56")
        }
        let payloadStart = start + 1 + n
        guard len <= UInt64(end - payloadStart) else {
            throw RLPError(
                end == bytes.count ? .unexpectedEnd : .elementTooLarge,
                at: start,
                detail: "declared length \(len) exceeds the \(end - payloadStart) bytes left"
            )
        }
        return (payloadStart, Int(len))
    }

    /// Reads the next item, whatever it is, and returns its complete encoding's range.
    public mutating func readRawRange() throws(RLPError) -> Range<Int> {
        let h = try peekHeader()
        position = h.itemEnd
        return h.start..<h.itemEnd
    }

    /// Reads the next item, whatever it is, and returns its complete encoding.
    public mutating func readRaw() throws(RLPError) -> ArraySlice<UInt8> {
        bytes[try readRawRange()]
    }

    /// Skips the next item.
    public mutating func skip() throws(RLPError) { _ = try readRawRange() }

    /// Reads a string item and returns the range of its content.
    public mutating func readBytesRange() throws(RLPError) -> Range<Int> {
        let h = try peekHeader()
        guard !h.isList else { throw RLPError(.expectedString, at: h.start) }
        position = h.itemEnd
        return h.payload
    }

    /// Reads a string item.
    public mutating func readBytes() throws(RLPError) -> ArraySlice<UInt8> {
        bytes[try readBytesRange()]
    }

    /// Reads a string item of exactly `count` bytes.
    public mutating func readBytes(count: Int) throws(RLPError) -> ArraySlice<UInt8> {
        let start = position
        let r = try readBytesRange()
        guard r.count == count else {
            throw RLPError(.wrongLength, at: start, detail: "expected \(count) bytes, found \(r.count)")
        }
        return bytes[r]
    }

    /// Reads a canonical unsigned integer of at most 64 bits.
    public mutating func readUInt64() throws(RLPError) -> UInt64 {
        let start = position
        let r = try readBytesRange()
        return try RLPReader.uint(bytes, r, at: start, maxBytes: 8)
    }

    /// Reads a canonical unsigned integer of at most 32 bits.
    public mutating func readUInt32() throws(RLPError) -> UInt32 {
        let start = position
        let r = try readBytesRange()
        return UInt32(try RLPReader.uint(bytes, r, at: start, maxBytes: 4))
    }

    /// Reads a canonical unsigned integer of any width and returns its big-endian bytes (empty for zero).
    public mutating func readUIntBytes() throws(RLPError) -> ArraySlice<UInt8> {
        let start = position
        let r = try readBytesRange()
        if let first = r.first, bytes[first] == 0 { throw RLPError(.nonCanonicalInteger, at: start) }
        return bytes[r]
    }

    /// Reads a Go-style boolean: 0x01 true, 0x80 false.
    public mutating func readBool() throws(RLPError) -> Bool {
        let start = position
        let r = try readBytesRange()
        if r.isEmpty { return false }
        if r.count == 1 && bytes[r.lowerBound] == 1 { return true }
        throw RLPError(.invalidBool, at: start)
    }

    static func uint(_ bytes: [UInt8], _ r: Range<Int>, at start: Int, maxBytes: Int) throws(RLPError) -> UInt64 {
        if r.isEmpty { return 0 }
        guard r.count <= maxBytes else { throw RLPError(.integerOverflow, at: start) }
        guard bytes[r.lowerBound] != 0 else { throw RLPError(.nonCanonicalInteger, at: start) }
        var v: UInt64 = 0
        for i in r { v = (v << 8) | UInt64(bytes[i]) }
        return v
    }

    /// Reads a list item and returns a reader over its elements.
    public mutating func readList() throws(RLPError) -> RLPReader {
        let h = try peekHeader()
        guard h.isList else { throw RLPError(.expectedList, at: h.start) }
        position = h.itemEnd
        return RLPReader(bytes, range: h.payload)
    }

    /// Throws ``RLPError/Code/trailingBytes`` unless the reader is at its end.
    public func finish() throws(RLPError) {
        guard position >= end else { throw RLPError(.trailingBytes, at: position) }
    }

    /// Counts the items left in this reader without consuming them (validating each header).
    public func remainingCount() throws(RLPError) -> Int {
        var copy = self
        var n = 0
        while !copy.isAtEnd {
            try copy.skip()
            n += 1
        }
        return n
    }
}
