/// Counts of values in ordered buckets.
public struct Histogram: Sendable, Codable, Equatable {
    /// One bucket: values in `lower..<upper` (no upper bound when `upper` is nil).
    public struct Bucket: Sendable, Codable, Equatable {
        /// Inclusive lower bound.
        public var lower: Double
        /// Exclusive upper bound, or nil for the last, open bucket.
        public var upper: Double?
        /// A readable name, for example `256–511 B`.
        public var label: String
        /// Values counted.
        public var count: Int
    }

    /// The buckets, in ascending order.
    public var buckets: [Bucket]

    /// Buckets with these lower bounds; the last one is open.
    init(bounds: [Double], label: (Double, Double?) -> String) {
        buckets = bounds.indices.map { i in
            let upper = i + 1 < bounds.count ? bounds[i + 1] : nil
            return Bucket(lower: bounds[i], upper: upper, label: label(bounds[i], upper), count: 0)
        }
    }

    /// Counts `value` in the last bucket whose lower bound is ≤ value (the first bucket takes smaller values).
    mutating func add(_ value: Double) {
        var lo = 0
        var hi = buckets.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if buckets[mid].lower <= value { lo = mid } else { hi = mid - 1 }
        }
        buckets[lo].count += 1
    }

    /// The total count.
    public var total: Int { buckets.reduce(0) { $0 + $1.count } }

    /// Envelope sizes: powers of two from 64 bytes to 1 MiB.
    static func sizes() -> Histogram {
        var bounds: [Double] = [0]
        var b = 64.0
        while b <= Double(1 << 20) {
            bounds.append(b)
            b *= 2
        }
        return Histogram(bounds: bounds) { lo, hi in
            guard let hi else { return "≥ \(bytes(lo))" }
            return "\(bytes(lo))–<\(bytes(hi))"
        }
    }

    /// TTLs in seconds, at the steps clients use.
    static func ttls() -> Histogram {
        Histogram(bounds: [0, 10, 30, 60, 120, 300, 600, 1800, 3600, 21_600, 86_400, 604_800]) { lo, hi in
            guard let hi else { return "≥ \(duration(lo))" }
            return "\(duration(lo))–<\(duration(hi))"
        }
    }

    /// Proof of work on a log₂ scale, 2⁻²⁴ to 2⁸ (smaller and non-finite values go to the ends).
    static func pows() -> Histogram {
        Histogram(bounds: [0] + (-23...8).map { pow2($0) }) { lo, hi in
            guard let hi else { return "≥ \(powText(lo))" }
            return lo == 0 ? "< \(powText(hi))" : powText(lo)
        }
    }

    static func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

    static func powText(_ v: Double) -> String {
        let e = Int(v.exponent)
        return e >= 0 ? "\(Int(v))" : "2^\(e)"
    }

    static func bytes(_ v: Double) -> String {
        let n = Int(v)
        if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1024, n % 1024 == 0 { return "\(n >> 10) KiB" }
        return "\(n) B"
    }

    static func duration(_ v: Double) -> String {
        let n = Int(v)
        if n >= 86_400, n % 86_400 == 0 { return "\(n / 86_400) d" }
        if n >= 3600, n % 3600 == 0 { return "\(n / 3600) h" }
        if n >= 60, n % 60 == 0 { return "\(n / 60) min" }
        return "\(n) s"
    }
}
