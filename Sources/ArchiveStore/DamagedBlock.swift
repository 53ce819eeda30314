/// Bytes of a segment that a read skipped because they are not a valid block (found by a scan, an export or a
/// query; `verify` reports the same damage, and `verify --repair` quarantines it).
public struct DamagedBlock: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The segment (its first sequence number).
    public var segment: UInt64
    /// The segment file.
    public var path: String
    /// The byte range skipped.
    public var range: Range<Int64>
    /// Why the bytes are not a valid block.
    public var reason: String

    public var description: String {
        "\(path): skipped damaged bytes \(range.lowerBound)..<\(range.upperBound) (\(reason)); run verify"
    }
}
