import NIOCore

/// A token bucket (of bytes, or of connections): refills at a fixed rate up to a burst size; charging may run
/// it negative, taking may not.
struct TokenBucket: Sendable {
    let ratePerSecond: Double
    let burst: Double
    private(set) var tokens: Double
    private var refilled: NIODeadline

    init(ratePerSecond: Int, burst: Int, now: NIODeadline) {
        self.ratePerSecond = Double(max(1, ratePerSecond))
        self.burst = Double(max(1, burst))
        tokens = self.burst
        refilled = now
    }

    private mutating func refill(now: NIODeadline) {
        let elapsed = Double((now - refilled).nanoseconds) / 1e9
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * ratePerSecond)
            refilled = now
        }
    }

    /// Spends `n` tokens (bytes received), even past zero, but not below `-floor` when one is given.
    mutating func charge(_ n: Int, now: NIODeadline, floor: Double? = nil) {
        refill(now: now)
        tokens -= Double(n)
        if let floor { tokens = max(tokens, -floor) }
    }

    /// Takes `n` tokens if there are that many.
    mutating func take(_ n: Int, now: NIODeadline) -> Bool {
        refill(now: now)
        guard tokens >= Double(n) else { return false }
        tokens -= Double(n)
        return true
    }

    /// True when the bucket has refilled completely (nothing to remember about its owner).
    func isFull(now: NIODeadline) -> Bool {
        tokens + Double((now - refilled).nanoseconds) / 1e9 * ratePerSecond >= burst
    }

    /// How long until the budget is positive again; nil when it is now.
    mutating func wait(now: NIODeadline) -> TimeAmount? {
        refill(now: now)
        guard tokens < 0 else { return nil }
        return .nanoseconds(Int64((-tokens / ratePerSecond * 1e9).rounded(.up)) + 1_000_000)
    }
}
