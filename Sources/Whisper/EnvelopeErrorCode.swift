/// The code of an envelope error in a ``MessageResponse``: status-go's `EnvelopeTimeNotSynced` and
/// `EnvelopeOtherError`, whose numbers differ between shh/6 and waku/1 (whisper-mailserver §4.2).
public struct EnvelopeErrorCode: RawRepresentable, Hashable, Sendable {
    /// The number on the wire.
    public var rawValue: UInt64

    /// A code from its number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// shh/6: sent too far in the future, or expired too long ago (reported, the peer stays).
    public static let whisperTimeNotSynced = EnvelopeErrorCode(rawValue: 37)
    /// shh/6: any other rejection, and an archive failure.
    public static let whisperOther = EnvelopeErrorCode(rawValue: 38)
    /// waku/1: sent too far in the future, or expired too long ago (reported, the peer stays).
    public static let wakuTimeNotSynced = EnvelopeErrorCode(rawValue: 21)
    /// waku/1: any other rejection, and an archive failure.
    public static let wakuOther = EnvelopeErrorCode(rawValue: 22)
}
