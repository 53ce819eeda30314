import NIOConcurrencyHelpers

/// Counters and gauges of a running mailserver, rendered in the Prometheus text format.
///
/// Names follow status-go's mailserver metrics (whisper §6.4) where they apply. Every value is a
/// plain counter read under one lock, so rendering costs O(number of metrics).
public final class MailServerMetrics: Sendable {
    struct Values {
        var counters: [String: Double] = [:]
        var gauges: [String: Double] = [:]
        var latencyBuckets: [Double] = MailServerMetrics.latencyBounds.map { _ in 0 }
        var latencyCount = 0.0
        var latencySum = 0.0
    }

    static let latencyBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    let values = NIOLockedValueBox(Values())

    public init() {}

    /// Adds `amount` to a counter (the name may carry labels, e.g. `x{type="validation"}`).
    public func increment(_ name: String, by amount: Double = 1) {
        values.withLockedValue { $0.counters[name, default: 0] += amount }
    }

    /// Sets a gauge.
    public func set(_ name: String, _ value: Double) {
        values.withLockedValue { $0.gauges[name] = value }
    }

    /// Records one request's latency in seconds.
    public func observeRequest(seconds: Double) {
        values.withLockedValue { v in
            for (i, b) in MailServerMetrics.latencyBounds.enumerated() where seconds <= b { v.latencyBuckets[i] += 1 }
            v.latencyCount += 1
            v.latencySum += seconds
        }
    }

    /// The current value of a counter (tests and summaries).
    public func counter(_ name: String) -> Double { values.withLockedValue { $0.counters[name] ?? 0 } }

    /// The Prometheus text exposition.
    public func render() -> String {
        let v = values.withLockedValue { $0 }
        var out = ""
        func family(_ name: String) -> String { String(name.prefix { $0 != "{" }) }
        var typed = Set<String>()
        for (name, value) in v.counters.sorted(by: { $0.key < $1.key }) {
            if typed.insert(family(name)).inserted { out += "# TYPE \(family(name)) counter\n" }
            out += "\(name) \(format(value))\n"
        }
        for (name, value) in v.gauges.sorted(by: { $0.key < $1.key }) {
            if typed.insert(family(name)).inserted { out += "# TYPE \(family(name)) gauge\n" }
            out += "\(name) \(format(value))\n"
        }
        let h = "mailserver_request_duration_seconds"
        out += "# TYPE \(h) histogram\n"
        for (i, b) in MailServerMetrics.latencyBounds.enumerated() {
            out += "\(h)_bucket{le=\"\(b)\"} \(format(v.latencyBuckets[i]))\n"
        }
        out += "\(h)_bucket{le=\"+Inf\"} \(format(v.latencyCount))\n"
        out += "\(h)_sum \(v.latencySum)\n\(h)_count \(format(v.latencyCount))\n"
        return out
    }

    func format(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }
}
