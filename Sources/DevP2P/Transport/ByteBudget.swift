import NIOCore

/// A token bucket (of bytes, or of connections): refills at a fixed rate up to a burst size; charging may run
/// it negative, taking may not.
struct ByteBudget: Sendable {
    let bytesPerSecond: Double
    let burst: Double
    private(set) var tokens: Double
    private var refilled: NIODeadline

    init(bytesPerSecond: Int, burst: Int, now: NIODeadline) {
        self.bytesPerSecond = Double(max(1, bytesPerSecond))
        self.burst = Double(max(1, burst))
        tokens = self.burst
        refilled = now
    }

    private mutating func refill(now: NIODeadline) {
        let elapsed = Double((now - refilled).nanoseconds) / 1e9
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * bytesPerSecond)
            refilled = now
        }
    }

    /// Spends `bytes` received.
    mutating func charge(_ bytes: Int, now: NIODeadline) {
        refill(now: now)
        tokens -= Double(bytes)
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
        tokens + Double((now - refilled).nanoseconds) / 1e9 * bytesPerSecond >= burst
    }

    /// How long until the budget is positive again; nil when it is now.
    mutating func wait(now: NIODeadline) -> TimeAmount? {
        refill(now: now)
        guard tokens < 0 else { return nil }
        return .nanoseconds(Int64((-tokens / bytesPerSecond * 1e9).rounded(.up)) + 1_000_000)
    }
}
