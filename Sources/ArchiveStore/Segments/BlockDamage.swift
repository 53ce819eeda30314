/// Why bytes at an offset of a segment are not a valid block, in words (a torn write or corruption).
struct BlockDamage: Error, Hashable, Sendable {
    /// The reason, as logs and reports show it.
    var reason: String

    init(_ reason: String) { self.reason = reason }
}
