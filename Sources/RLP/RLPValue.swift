/// A decoded RLP tree: strings and lists, without a schema.
public indirect enum RLPValue: Equatable, Sendable {
    /// A byte string.
    case bytes([UInt8])
    /// A list of items.
    case list([RLPValue])

    /// Decodes exactly one item; trailing bytes are an error.
    public init(decoding bytes: [UInt8]) throws(RLPError) {
        var reader = RLPReader(bytes)
        self = try RLPValue.read(&reader)
        try reader.finish()
    }

    /// Reads one item (and everything nested in it) from `reader`.
    public static func read(_ reader: inout RLPReader) throws(RLPError) -> RLPValue {
        let h = try reader.peekHeader()
        if h.isList {
            var inner = try reader.readList()
            var items: [RLPValue] = []
            while !inner.isAtEnd { items.append(try read(&inner)) }
            return .list(items)
        }
        return .bytes(Array(try reader.readBytes()))
    }

    /// The canonical encoding.
    public var encoded: [UInt8] {
        var w = RLPWriter()
        write(to: &w)
        return w.bytes
    }

    /// Appends the canonical encoding to `writer`.
    public func write(to writer: inout RLPWriter) {
        switch self {
        case .bytes(let b): writer.append(bytes: b)
        case .list(let items): writer.list { w in for item in items { item.write(to: &w) } }
        }
    }
}
