/// The receive-time checks a node applies to envelopes arriving with code 1 (whisper §1.5).
public struct ReceivePolicy: Sendable {
    /// Seconds of clock skew tolerated (`DefaultSyncAllowance`).
    public static let syncAllowance: UInt32 = 10
    /// Default `MaxMessageSize` (1 MiB).
    public static let defaultMaxMessageSize = 1 << 20

    /// The node's minimum PoW.
    public var minPoW: Double
    /// The previous minimum still tolerated for 10 s after a change.
    public var minPoWTolerance: Double
    /// Largest envelope size (`20 + len(data)`) accepted.
    public var maxMessageSize: Int
    /// The node's own bloom (full for a mailserver that stores all topics).
    public var bloom: Bloom
    /// The previous bloom, still tolerated for 10 s after a change.
    public var bloomTolerance: Bloom?

    public init(minPoW: Double = 0.2, maxMessageSize: Int = defaultMaxMessageSize, bloom: Bloom = .full) {
        self.minPoW = minPoW
        self.minPoWTolerance = minPoW
        self.maxMessageSize = maxMessageSize
        self.bloom = bloom
    }

    /// The outcome of the checks.
    public enum Verdict: Sendable, Equatable {
        /// Accept; the PoW computed (with the skew term when sent in the near future).
        case accept(pow: Double)
        /// Expired less than 20 s ago: dropped without an error.
        case dropSilently
        /// Rejected. `timeSync` marks the time errors that status-go reports without disconnecting.
        case reject(reason: String, timeSync: Bool, kind: Rejection)
    }

    /// Which check refused an envelope; the raw value is status-go's `type` label of
    /// `whisper_envelopes_cache_failures_total` for it (`expired` is the silent drop).
    public enum Rejection: String, Sendable, CaseIterable {
        case inFuture = "in_future"
        case veryOld = "very_old"
        case oversized
        case lowPoW = "low_pow"
        case noBloomMatch = "no_bloom_match"
    }

    /// Applies the checks in the order go-ethereum does, with `now` as UNIX seconds.
    public func check(_ envelope: Envelope, now: UInt32) -> Verdict {
        let sent = envelope.sentTime
        var diff: UInt32 = 0
        if sent > now {
            if sent &- ReceivePolicy.syncAllowance > now {
                return .reject(reason: "envelope from future: sent \(sent), now \(now)", timeSync: true, kind: .inFuture)
            }
            diff = sent &- now &+ 1
        }
        if envelope.expiry < now {
            if envelope.expiry &+ ReceivePolicy.syncAllowance * 2 < now {
                return .reject(reason: "very old envelope: expired \(envelope.expiry), now \(now)", timeSync: true, kind: .veryOld)
            }
            return .dropSilently
        }
        if envelope.size > maxMessageSize {
            return .reject(reason: "huge messages are not allowed: \(envelope.size) > \(maxMessageSize)", timeSync: false, kind: .oversized)
        }
        let pow = envelope.proofOfWork(diff: diff)
        if pow < minPoW && pow < minPoWTolerance {
            return .reject(reason: "envelope with low PoW: \(pow) < \(minPoW)", timeSync: false, kind: .lowPoW)
        }
        let sample = envelope.bloom
        if !bloom.matches(sample) && !(bloomTolerance?.matches(sample) ?? false) {
            return .reject(reason: "envelope does not match the node's bloom filter", timeSync: false, kind: .noBloomMatch)
        }
        return .accept(pow: pow)
    }
}
