import NIOConcurrencyHelpers

/// Per-peer request limiter: a request is allowed only if the peer's last accepted request is at
/// least `interval` seconds old (status-go's `MailServerRateLimit` semantics).
public final class RateLimiter: Sendable {
    let intervalBox: NIOLockedValueBox<Double>
    let last = NIOLockedValueBox<[String: Double]>([:])

    public init(interval: Double) { intervalBox = NIOLockedValueBox(interval) }

    /// The minimum seconds between two accepted requests of a peer.
    public var interval: Double { intervalBox.withLockedValue { $0 } }

    /// Changes the interval (a config reload); the peers' last requests are kept.
    public func setInterval(_ seconds: Double) { intervalBox.withLockedValue { $0 = seconds } }

    /// Records and allows the request, or refuses it.
    public func allow(peer: String, now: Double) -> Bool {
        let interval = self.interval
        guard interval > 0 else { return true }
        return last.withLockedValue { table in
            if let t = table[peer], now - t < interval { return false }
            table[peer] = now
            if table.count > 10_000 { table = table.filter { now - $0.value < interval } }
            return true
        }
    }
}
