/// Hexadecimal text for byte strings, used by every layer for display and parsing.
public enum Hex {
    /// A hex parsing failure, with the character offset of the first bad digit.
    public struct DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Offset (in characters, after any 0x prefix) of the problem.
        public var offset: Int
        /// What is wrong.
        public var reason: String
        public var description: String { "invalid hex at character \(offset): \(reason)" }

        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    /// Decodes hex digits, with or without a `0x` prefix; surrounding whitespace is ignored.
    public static func decode(_ text: some StringProtocol) throws(DecodingError) -> [UInt8] {
        var utf8 = Array(text.utf8)
        while let last = utf8.last, last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 { utf8.removeLast() }
        var start = 0
        while start < utf8.count, utf8[start] == 0x20 || utf8[start] == 0x09 { start += 1 }
        if utf8.count - start >= 2, utf8[start] == 0x30, utf8[start + 1] | 0x20 == 0x78 { start += 2 }
        let count = utf8.count - start
        guard count % 2 == 0 else {
            throw DecodingError(offset: count, reason: "odd number of digits (\(count))")
        }
        var out = [UInt8]()
        out.reserveCapacity(count / 2)
        var i = start
        while i < utf8.count {
            guard let hi = nibble(utf8[i]) else { throw DecodingError(offset: i - start, reason: "not a hex digit") }
            guard let lo = nibble(utf8[i + 1]) else { throw DecodingError(offset: i + 1 - start, reason: "not a hex digit") }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    @inline(__always)
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex digits of `bytes`, without prefix.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Collection where Element == UInt8 {
    /// Lower-case hex digits, without prefix.
    public var hex: String { Hex.encode(self) }
}
