/// A strict-decoding failure, with the byte offset where the bad item starts.
public struct RLPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// The input ended before the item did.
        case unexpectedEnd = "unexpected end of input"
        /// A single byte below 0x80 was wrapped as a 1-byte string, or a long form encodes a short length.
        case nonCanonicalSize = "non-canonical size"
        /// An integer has a leading zero byte, or zero is written as 0x00.
        case nonCanonicalInteger = "non-canonical integer"
        /// An item is longer than the space left in its enclosing list.
        case elementTooLarge = "element larger than its enclosing list"
        /// Bytes follow the top-level item.
        case trailingBytes = "trailing bytes after the value"
        /// An integer does not fit the requested width.
        case integerOverflow = "integer overflow"
        /// A list was found where a string was expected.
        case expectedString = "expected a string, found a list"
        /// A string was found where a list was expected.
        case expectedList = "expected a list, found a string"
        /// A fixed-size string has the wrong length.
        case wrongLength = "string has the wrong length"
        /// A list has fewer or more elements than the schema allows.
        case wrongElementCount = "wrong number of list elements"
        /// A boolean is neither 0x80 nor 0x01.
        case invalidBool = "invalid boolean"
    }

    /// What went wrong.
    public var code: Code
    /// Byte offset of the offending item from the start of the decoded input.
    public var offset: Int
    /// Extra detail, such as the expected length.
    public var detail: String?

    public init(_ code: Code, at offset: Int, detail: String? = nil) {
        self.code = code
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        if let detail { return "RLP: \(code.rawValue) at byte \(offset) (\(detail))" }
        return "RLP: \(code.rawValue) at byte \(offset)"
    }
}
