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
        var string = String(text)
        return try string.withUTF8 { decode(utf8: $0) }.get()
    }

    private static func decode(utf8: UnsafeBufferPointer<UInt8>) -> Result<[UInt8], DecodingError> {
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        var end = utf8.count
        while end > 0, isSpace(utf8[end - 1]) || utf8[end - 1] == 0x0A || utf8[end - 1] == 0x0D { end -= 1 }
        var start = 0
        while start < end, isSpace(utf8[start]) { start += 1 }
        if end - start >= 2, utf8[start] == 0x30, utf8[start + 1] | 0x20 == 0x78 { start += 2 }
        let count = end - start
        guard count % 2 == 0 else {
            return .failure(DecodingError(offset: count, reason: "odd number of digits (\(count))"))
        }
        var bad: Int?
        let bytes = [UInt8](unsafeUninitializedCapacity: count / 2) { out, initialized in
            var i = start
            while i < end {
                guard let hi = nibble(utf8[i]) else {
                    bad = i - start
                    break
                }
                guard let lo = nibble(utf8[i + 1]) else {
                    bad = i + 1 - start
                    break
                }
                out[(i - start) / 2] = hi << 4 | lo
                i += 2
            }
            initialized = (i - start) / 2
        }
        if let bad { return .failure(DecodingError(offset: bad, reason: "not a hex digit")) }
        return .success(bytes)
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

    /// Lower-case hex digits of `bytes`, without prefix.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        // Callers in other modules get this generic unspecialised, one witness call per byte; contiguous bytes
        // (arrays and their slices, nearly every caller) go through the buffer instead.
        if let text = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0) }) { return text }
        return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0) }
    }

    private static func encode(buffer: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: buffer.count * 2) { out in
            let digits: StaticString = "0123456789abcdef"
            let table = digits.utf8Start
            for (i, b) in buffer.enumerated() {
                out[2 * i] = table[Int(b >> 4)]
                out[2 * i + 1] = table[Int(b & 0x0F)]
            }
            return buffer.count * 2
        }
    }
}

extension Collection where Element == UInt8 {
    /// Lower-case hex digits, without prefix.
    public var hex: String { Hex.encode(self) }
}
