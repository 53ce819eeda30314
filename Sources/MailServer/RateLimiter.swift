import NIOConcurrencyHelpers

/// Per-peer request limiter: a request is allowed only if the peer's last accepted request is at
/// least `interval` seconds old (status-go's `MailServerRateLimit` semantics).
public final class RateLimiter: Sendable {
    let interval: Double
    let last = NIOLockedValueBox<[String: Double]>([:])

    public init(interval: Double) { self.interval = interval }

    /// Records and allows the request, or refuses it.
    public func allow(peer: String, now: Double) -> Bool {
        guard interval > 0 else { return true }
        return last.withLockedValue { table in
            if let t = table[peer], now - t < interval { return false }
            table[peer] = now
            if table.count > 10_000 { table = table.filter { now - $0.value < interval } }
            return true
        }
    }
}
