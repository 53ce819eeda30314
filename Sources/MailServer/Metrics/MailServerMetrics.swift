import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// The metrics of a running mail server: swift-metrics counters, gauges and histograms in a Prometheus registry
/// (``CatalogMetricsFactory``), every series of ``MetricsCatalog`` created at 0 when the server starts.
///
/// A series is named as the exposition names it, `name` or `name{label="value",…}` (labels in the catalog's
/// order); the peer state machine emits such names, and each is resolved to its handle once. Producing a value
/// costs O(1): a dictionary lookup under a lock, then the handle's own atomic update.
public final class MailServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics backend over ``registry`` (``MetricsSystem/bootstrap(_:)`` takes it in `serve`, so that
    /// the store and DevP2P report into the same registry).
    public let factory: CatalogMetricsFactory
    /// The `db` label: the archive engine.
    public let db: String

    private let counters: NIOLockedValueBox<[String: CoreMetrics.Counter]>
    private let gauges: NIOLockedValueBox<[String: CoreMetrics.Gauge]>
    private let histograms: NIOLockedValueBox<[String: CoreMetrics.Recorder]>

    /// A registry with every series of the catalog at 0, for a store of engine `db` (`archive`, `postgres`) that
    /// syncs from `syncPeers` (their ``MetricsCatalog/peerLabel(_:)`` values).
    public init(db: String = "archive", syncPeers: [String] = [], registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        let families = MetricsCatalog.families(db: db, syncPeers: syncPeers)
        self.registry = registry
        self.db = db
        let factory = CatalogMetricsFactory(registry: registry, families: families)
        self.factory = factory
        var counters: [String: CoreMetrics.Counter] = [:]
        var gauges: [String: CoreMetrics.Gauge] = [:]
        var histograms: [String: CoreMetrics.Recorder] = [:]
        for family in families {
            for labels in family.labelSets {
                // A family labelled only by `db` is also reached by its bare name: the peer state machine counts
                // archive outcomes without knowing the engine.
                let keys = [Self.series(family.name, labels)] + (labels.count == 1 && labels[0].0 == "db" ? [family.name] : [])
                switch family.kind {
                case .counter:
                    let c = CoreMetrics.Counter(label: family.name, dimensions: labels, factory: factory)
                    for key in keys { counters[key] = c }
                case .gauge:
                    let g = CoreMetrics.Gauge(label: family.name, dimensions: labels, factory: factory)
                    for key in keys { gauges[key] = g }
                case .histogram:
                    let h = CoreMetrics.Recorder(label: family.name, dimensions: labels, aggregate: true, factory: factory)
                    for key in keys { histograms[key] = h }
                }
            }
        }
        self.counters = NIOLockedValueBox(counters)
        self.gauges = NIOLockedValueBox(gauges)
        self.histograms = NIOLockedValueBox(histograms)
    }

    /// Adds `amount` (a whole number: every counter here counts things or bytes) to a counter series.
    public func increment(_ series: String, by amount: Double = 1) {
        Self.handle(counters, series) { CoreMetrics.Counter(label: $0, dimensions: $1, factory: factory) }.increment(by: Int64(amount))
    }

    /// Sets a gauge series.
    public func set(_ series: String, _ value: Double) {
        Self.handle(gauges, series) { CoreMetrics.Gauge(label: $0, dimensions: $1, factory: factory) }.record(value)
    }

    /// Records one observation of a histogram series.
    public func record(_ series: String, _ value: Double) {
        Self.handle(histograms, series) { CoreMetrics.Recorder(label: $0, dimensions: $1, aggregate: true, factory: factory) }.record(value)
    }

    /// The handle of `series` in `box`, made by `make` (from the series' name and labels) the first time.
    private static func handle<H>(
        _ box: NIOLockedValueBox<[String: H]>,
        _ series: String,
        make: (String, [(String, String)]) -> H
    ) -> H {
        box.withLockedValue { all in
            if let h = all[series] { return h }
            let (name, labels) = parse(series)
            let h = make(name, labels)
            all[series] = h
            return h
        }
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }

    /// `name{a="x",b="y"}`, or `name` without labels.
    public static func series(_ name: String, _ labels: [(String, String)]) -> String {
        labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }

    /// The name and labels of a series written as ``series(_:_:)`` writes it (label values without quotes or
    /// commas, as every value this server uses).
    static func parse(_ series: String) -> (name: String, labels: [(String, String)]) {
        guard let open = series.firstIndex(of: "{"), series.hasSuffix("}") else { return (series, []) }
        let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
        let labels = body.split(separator: ",").compactMap { pair -> (String, String)? in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            return (String(pair[..<eq]), String(pair[pair.index(after: eq)...].filter { $0 != "\"" }))
        }
        return (String(series[..<open]), labels)
    }
}
