/// A capability as announced in Hello: a protocol name and version, such as `shh/6`.
public struct Capability: Hashable, Sendable, CustomStringConvertible {
    /// The protocol name (ASCII, case-sensitive).
    public var name: String
    /// The protocol version.
    public var version: UInt64

    /// The capability `name/version`.
    public init(name: String, version: UInt64) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)/\(version)" }

    /// Byte-wise order by name, then by version (the order of message-id offsets).
    static func precedes(_ a: Capability, _ b: Capability) -> Bool {
        if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
        return a.version < b.version
    }
}
