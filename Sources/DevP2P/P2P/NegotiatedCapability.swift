/// A capability shared with a peer, with its place in the message-id space (rlpx-rlp.md §7).
public struct NegotiatedCapability: Hashable, Sendable, CustomStringConvertible {
    /// Name and version.
    public var capability: Capability
    /// The first message id of its range (0x10 for the first capability).
    public var offset: UInt64
    /// The size of its message-code space.
    public var messageCount: Int
    /// The largest (uncompressed) payload accepted or sent.
    public var maxMessageSize: Int

    /// The capability name.
    public var name: String { capability.name }
    /// The capability version.
    public var version: UInt64 { capability.version }

    public var description: String { "\(capability)@0x\(String(offset, radix: 16))+\(messageCount)" }

    /// The first message id after the p2p base protocol.
    public static let baseOffset: UInt64 = 0x10

    /// Shared capabilities (same name and version; the highest version per name), sorted by name
    /// and given consecutive id ranges from 0x10.
    public static func negotiate(local: [SupportedCapability], remote: [Capability]) -> [NegotiatedCapability] {
        let remoteSet = Set(remote)
        var best: [String: SupportedCapability] = [:]
        for c in local where remoteSet.contains(c.capability) {
            if let current = best[c.capability.name], current.capability.version >= c.capability.version { continue }
            best[c.capability.name] = c
        }
        var offset = baseOffset
        var out: [NegotiatedCapability] = []
        for c in best.values.sorted(by: { Capability.precedes($0.capability, $1.capability) }) {
            out.append(
                NegotiatedCapability(
                    capability: c.capability,
                    offset: offset,
                    messageCount: c.messageCount,
                    maxMessageSize: c.maxMessageSize
                )
            )
            offset += UInt64(c.messageCount)
        }
        return out
    }
}
