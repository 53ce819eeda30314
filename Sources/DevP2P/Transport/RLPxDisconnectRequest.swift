/// An outbound user event asking the ``RLPxHandler`` to send Disconnect and close.
public struct RLPxDisconnectRequest: Sendable {
    /// The reason to send.
    public var reason: DisconnectReason

    /// A request to disconnect with `reason`.
    public init(reason: DisconnectReason) { self.reason = reason }
}
