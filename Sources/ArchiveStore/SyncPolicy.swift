/// When appended blocks are flushed to stable storage.
public enum SyncPolicy: Sendable, Hashable, LosslessStringConvertible {
    /// fsync every group commit before acknowledging it (the default; nothing acknowledged is lost).
    case always
    /// Acknowledge at once and fsync at most every `milliseconds` (a crash of the machine may lose that window).
    case interval(milliseconds: Int)
    /// Never fsync (the OS decides; for bulk loads that can be redone).
    case none

    /// Parses `always`, `none` or `interval:MS`.
    public init?(_ description: String) {
        switch description {
        case "always": self = .always
        case "none": self = .none
        default:
            guard description.hasPrefix("interval:"), let ms = Int(description.dropFirst("interval:".count)), ms > 0 else { return nil }
            self = .interval(milliseconds: ms)
        }
    }

    public var description: String {
        switch self {
        case .always: "always"
        case .none: "none"
        case .interval(let ms): "interval:\(ms)"
        }
    }
}
